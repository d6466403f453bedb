# shellcheck shell=bash
# grading/lib.sh, for the scripts here: grading/kernel.sh, sourced by
# fetch.sh for its apt configuration, includes "$(dirname "$0")/lib.sh".
# shellcheck source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
