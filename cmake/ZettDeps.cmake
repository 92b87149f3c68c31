# System libraries as INTERFACE targets named tp::<name>, mirroring //third_party:<name> in Bazel.
#
# On Debian everything is in the default paths. On a GPU host without a package manager,
# Debian's packages are unpacked into ZETT_SYSROOT (scripts/gpu/prepare_host.sh) and LibTorch
# comes from ZETT_TORCH_DIR (the pip wheel's torch/ folder).

set(ZETT_SYSROOT "" CACHE PATH "Folder holding Debian packages unpacked with dpkg -x (empty: system)")
set(ZETT_TORCH_DIR "" CACHE PATH "LibTorch root with include/ and lib/ (empty: Debian's libtorch-dev)")

if(ZETT_SYSROOT)
  list(APPEND CMAKE_PREFIX_PATH "${ZETT_SYSROOT}/usr")
  include_directories(SYSTEM "${ZETT_SYSROOT}/usr/include" "${ZETT_SYSROOT}/usr/include/x86_64-linux-gnu")
  set(_zett_libdirs "${ZETT_SYSROOT}/usr/lib/x86_64-linux-gnu" "${ZETT_SYSROOT}/usr/lib")
endif()

# zett_system_library(<name> LIBS a b ... [DEPS tp::x ...] [WHOLE]) → tp::<name>
function(zett_system_library name)
  cmake_parse_arguments(ARG "WHOLE" "" "LIBS;DEPS" ${ARGN})
  add_library(zett_tp_${name} INTERFACE)
  add_library(tp::${name} ALIAS zett_tp_${name})
  set(_paths "")
  foreach(lib IN LISTS ARG_LIBS)
    find_library(ZETT_LIB_${lib} NAMES ${lib} HINTS ${_zett_libdirs} REQUIRED)
    list(APPEND _paths "${ZETT_LIB_${lib}}")
  endforeach()
  if(ARG_WHOLE)
    target_link_libraries(zett_tp_${name} INTERFACE "-Wl,--no-as-needed" ${_paths} "-Wl,--as-needed")
  else()
    target_link_libraries(zett_tp_${name} INTERFACE ${_paths})
  endif()
  if(ARG_DEPS)
    target_link_libraries(zett_tp_${name} INTERFACE ${ARG_DEPS})
  endif()
endfunction()

find_package(Threads REQUIRED)

set(_absl_components
  bad_any_cast_impl bad_optional_access bad_variant_access base city civil_time cord cord_internal
  cordz_functions cordz_handle cordz_info cordz_sample_token debugging_internal demangle_internal
  examine_stack exponential_biased failure_signal_handler flags_commandlineflag
  flags_commandlineflag_internal flags_config flags_internal flags_marshalling flags_parse
  flags_private_handle_accessor flags_program_name flags_reflection flags_usage flags_usage_internal
  graphcycles_internal hash hashtablez_sampler int128 leak_check log_severity low_level_hash
  malloc_internal periodic_sampler random_distributions random_internal_platform
  random_internal_pool_urbg random_internal_randen random_internal_randen_hwaes
  random_internal_randen_hwaes_impl random_internal_randen_slow random_internal_seed_material
  random_seed_gen_exception random_seed_sequences raw_hash_set raw_logging_internal scoped_set_env
  spinlock_wait stacktrace status statusor str_format_internal strerror strings strings_internal
  symbolize synchronization throw_delegate time time_zone)
list(TRANSFORM _absl_components PREPEND "absl_" OUTPUT_VARIABLE _absl_libs)
zett_system_library(absl LIBS ${_absl_libs} DEPS Threads::Threads)
zett_system_library(protobuf LIBS protobuf DEPS Threads::Threads)
zett_system_library(grpcpp LIBS grpc++ grpc gpr DEPS tp::absl tp::protobuf)
zett_system_library(grpcpp_reflection LIBS grpc++_reflection DEPS tp::grpcpp WHOLE)
zett_system_library(prometheus LIBS prometheus-cpp-pull prometheus-cpp-core)
zett_system_library(icu LIBS icui18n icuuc icudata)
zett_system_library(onig LIBS onig)
zett_system_library(sentencepiece LIBS sentencepiece_train sentencepiece)
zett_system_library(crypto LIBS crypto)
zett_system_library(cairo LIBS cairo fontconfig)
zett_system_library(gtest LIBS gmock gtest DEPS Threads::Threads)
zett_system_library(gtest_main LIBS gmock gtest_main gtest DEPS Threads::Threads)
zett_system_library(benchmark LIBS benchmark DEPS Threads::Threads)
add_library(zett_tp_nlohmann_json INTERFACE)
add_library(tp::nlohmann_json ALIAS zett_tp_nlohmann_json)

# LibTorch. Linked with --no-as-needed: operators (and CUDA) register from static initialisers.
add_library(zett_tp_torch INTERFACE)
add_library(tp::torch ALIAS zett_tp_torch)
if(ZETT_TORCH_DIR)
  set(_torch_inc "${ZETT_TORCH_DIR}/include" "${ZETT_TORCH_DIR}/include/torch/csrc/api/include")
  set(_torch_libdirs "${ZETT_TORCH_DIR}/lib")
else()
  set(_torch_inc "/usr/include/torch/csrc/api/include")
  set(_torch_libdirs "")
endif()
set(_torch_libs torch torch_cpu c10)
if(ZETT_WITH_CUDA)
  list(APPEND _torch_libs torch_cuda c10_cuda)
endif()
set(_torch_paths "")
foreach(lib IN LISTS _torch_libs)
  find_library(ZETT_TORCH_LIB_${lib} NAMES ${lib} HINTS ${_torch_libdirs} REQUIRED)
  list(APPEND _torch_paths "${ZETT_TORCH_LIB_${lib}}")
endforeach()
target_include_directories(zett_tp_torch SYSTEM INTERFACE ${_torch_inc})
if(ZETT_TORCH_DIR)
  # The PyTorch wheel's libtorch_cpu.so exports its own copies of libstdc++ symbols
  # (std::filesystem among them) and of protobuf. Symbols resolve in DT_NEEDED order, so the
  # real libstdc++ (and protobuf) must come first or our calls land in torch's copies and crash.
  set(_torch_first "-lstdc++" "${ZETT_LIB_protobuf}")
endif()
target_link_libraries(zett_tp_torch INTERFACE "-Wl,--no-as-needed" ${_torch_first} ${_torch_paths}
                                              "-Wl,--as-needed")
if(ZETT_WITH_CUDA)
  find_package(CUDAToolkit REQUIRED)
  target_link_libraries(zett_tp_torch INTERFACE CUDA::cudart)
  target_compile_definitions(zett_tp_torch INTERFACE ZETT_WITH_CUDA=1)
endif()
if(ZETT_TORCH_DIR)
  # The wheel's LibTorch uses the C++11 ABI (torch._C._GLIBCXX_USE_CXX11_ABI), as Debian does.
  target_compile_definitions(zett_tp_torch INTERFACE _GLIBCXX_USE_CXX11_ABI=1)
  set_property(TARGET zett_tp_torch APPEND PROPERTY INTERFACE_LINK_OPTIONS "-Wl,-rpath,${ZETT_TORCH_DIR}/lib")
endif()

# LibTorch's c10d process groups (core/train/distributed.cc): each backend is enabled when its
# headers compile against this LibTorch (gloo/ from the wheel or libgloo-dev; nccl.h from the
# wheel's nvidia-nccl package or the CUDA toolkit). ZETT_WITH_NCCL=OFF skips the NCCL probe.
option(ZETT_WITH_NCCL "Use ProcessGroupNCCL in CUDA builds when its headers compile" ON)
add_library(zett_tp_c10d INTERFACE)
add_library(tp::c10d ALIAS zett_tp_c10d)
target_link_libraries(zett_tp_c10d INTERFACE zett_tp_torch)
include(CheckCXXSourceCompiles)
set(_c10d_inc ${_torch_inc})
if(NOT ZETT_TORCH_DIR)
  list(APPEND _c10d_inc /usr/include)
endif()
set(CMAKE_REQUIRED_QUIET ON)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)  # compile only: linking is checked by the build
set(CMAKE_REQUIRED_FLAGS "-std=c++17")
set(CMAKE_REQUIRED_DEFINITIONS -DUSE_C10D_GLOO=1 -D_GLIBCXX_USE_CXX11_ABI=1)
set(CMAKE_REQUIRED_INCLUDES ${_c10d_inc})
check_cxx_source_compiles("
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
int main() { return c10d::ProcessGroupGloo::Options::create() ? 0 : 1; }" ZETT_HAVE_C10D_GLOO)
if(ZETT_HAVE_C10D_GLOO)
  target_compile_definitions(zett_tp_c10d INTERFACE ZETT_WITH_C10D_GLOO=1)
  find_library(ZETT_LIB_gloo NAMES gloo)  # Debian's libtorch_cpu needs it; the wheel's has it inside
  if(ZETT_LIB_gloo AND NOT ZETT_TORCH_DIR)
    target_link_libraries(zett_tp_c10d INTERFACE "-Wl,--no-as-needed" "${ZETT_LIB_gloo}" "-Wl,--as-needed")
  endif()
endif()
if(ZETT_WITH_CUDA AND ZETT_WITH_NCCL)
  set(_nvidia "${ZETT_TORCH_DIR}/../nvidia")
  file(GLOB _nvidia_inc LIST_DIRECTORIES true "${_nvidia}/*/include")
  find_path(ZETT_NCCL_INCLUDE_DIR nccl.h HINTS "${_nvidia}/nccl/include" "${_nvidia}/cu13/include"
                                               ${CUDAToolkit_INCLUDE_DIRS})
  if(ZETT_NCCL_INCLUDE_DIR)
    set(CMAKE_REQUIRED_DEFINITIONS -DUSE_C10D_NCCL=1 -DUSE_CUDA=1 -D_GLIBCXX_USE_CXX11_ABI=1)
    set(CMAKE_REQUIRED_INCLUDES ${_c10d_inc} ${ZETT_NCCL_INCLUDE_DIR} ${CUDAToolkit_INCLUDE_DIRS}
                                ${_nvidia_inc})
    check_cxx_source_compiles("
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
int main() { return c10d::ProcessGroupNCCL::Options::create() ? 0 : 1; }" ZETT_HAVE_C10D_NCCL)
  endif()
  if(ZETT_HAVE_C10D_NCCL)
    target_compile_definitions(zett_tp_c10d INTERFACE ZETT_WITH_C10D_NCCL=1)
    target_include_directories(zett_tp_c10d SYSTEM INTERFACE ${ZETT_NCCL_INCLUDE_DIR} ${_nvidia_inc})
    find_library(ZETT_LIB_nccl NAMES nccl libnccl.so.2 HINTS "${_nvidia}/nccl/lib" "${_nvidia}/cu13/lib")
    if(ZETT_LIB_nccl)
      target_link_libraries(zett_tp_c10d INTERFACE "${ZETT_LIB_nccl}")
    endif()
  endif()
endif()
unset(CMAKE_TRY_COMPILE_TARGET_TYPE)
unset(CMAKE_REQUIRED_FLAGS)
unset(CMAKE_REQUIRED_DEFINITIONS)
unset(CMAKE_REQUIRED_INCLUDES)
unset(CMAKE_REQUIRED_QUIET)
message(STATUS "c10d backends: gloo ${ZETT_HAVE_C10D_GLOO}, nccl ${ZETT_HAVE_C10D_NCCL}")

# Code generators.
find_program(ZETT_PROTOC protoc HINTS "${ZETT_SYSROOT}/usr/bin" REQUIRED)
find_program(ZETT_GRPC_CPP_PLUGIN grpc_cpp_plugin HINTS "${ZETT_SYSROOT}/usr/bin" REQUIRED)

# zett_proto_library(<target> <proto relative to repo root> [GRPC]) → C++ library with generated code.
function(zett_proto_library target proto)
  cmake_parse_arguments(ARG "GRPC" "" "" ${ARGN})
  get_filename_component(_dir "${proto}" DIRECTORY)
  get_filename_component(_name "${proto}" NAME_WE)
  set(_out "${CMAKE_BINARY_DIR}/${_dir}/${_name}")
  set(_outputs "${_out}.pb.cc" "${_out}.pb.h")
  set(_args --proto_path=${CMAKE_SOURCE_DIR} --cpp_out=${CMAKE_BINARY_DIR})
  if(ARG_GRPC)
    list(APPEND _outputs "${_out}.grpc.pb.cc" "${_out}.grpc.pb.h")
    list(APPEND _args --grpc_out=${CMAKE_BINARY_DIR} --plugin=protoc-gen-grpc=${ZETT_GRPC_CPP_PLUGIN})
  endif()
  add_custom_command(
    OUTPUT ${_outputs}
    COMMAND ${ZETT_PROTOC} ${_args} ${proto}
    DEPENDS "${CMAKE_SOURCE_DIR}/${proto}"
    WORKING_DIRECTORY "${CMAKE_SOURCE_DIR}"
    COMMENT "protoc ${proto}")
  list(FILTER _outputs INCLUDE REGEX "\\.cc$")
  add_library(${target} ${_outputs})
  target_include_directories(${target} PUBLIC "${CMAKE_BINARY_DIR}")
  if(ARG_GRPC)
    target_link_libraries(${target} PUBLIC tp::grpcpp)
  else()
    target_link_libraries(${target} PUBLIC tp::protobuf)
  endif()
endfunction()

# zett_test(<name> SOURCES ... DEPS ...) → a GoogleTest binary registered with CTest.
function(zett_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;DATA_ENV" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} tp::gtest_main)
  add_test(NAME ${name} COMMAND ${name} WORKING_DIRECTORY "${CMAKE_SOURCE_DIR}")
  # Scratch files go under the build tree, as Bazel's TEST_TMPDIR keeps them out of /tmp.
  set(_tmp "${CMAKE_BINARY_DIR}/test_tmp/${name}")
  file(MAKE_DIRECTORY "${_tmp}")
  set_tests_properties(${name} PROPERTIES ENVIRONMENT
    "ZETT_SOURCE_DIR=${CMAKE_SOURCE_DIR};TEST_TMPDIR=${_tmp};TMPDIR=${_tmp};${ARG_DATA_ENV}")
endfunction()
