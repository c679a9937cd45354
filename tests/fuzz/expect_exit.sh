#!/bin/sh
# expect_exit.sh CODE TEXT CMD...: CMD exits with CODE and its stderr+stdout mentions TEXT.
want=$1
text=$2
shift 2
out=$("$@" 2>&1)
rc=$?
echo "$out"
if [ "$rc" -ne "$want" ]; then
  echo "FAIL: exit code $rc, expected $want"
  exit 1
fi
case "$out" in
  *"$text"*) ;;
  *) echo "FAIL: output does not mention \"$text\""; exit 1 ;;
esac
