# zett.v1 stubs, generated at build time by setup.py (protoc + grpc_python_plugin).
