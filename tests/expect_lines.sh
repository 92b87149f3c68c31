# Sourced by the shell tests of --help texts.
# expect TEXT LINE...: fails the test, printing TEXT, unless every LINE appears in TEXT.
expect() {
  local text="$1"
  shift
  for line in "$@"; do
    grep -qF -- "$line" <<<"$text" || { echo "missing from --help: $line"; echo "$text"; exit 1; }
  done
}
