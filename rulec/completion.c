/* completion.c - `rulec completion bash|zsh|fish`: shell completion
 * SPDX-License-Identifier: Apache-2.0
 * scripts (also installed by make install), and `rulec completion kinds
 * [--target T]` / `rulec completion targets`, which the scripts call so
 * the kinds offered after --kind are the selected target's, from the
 * compiler's own table (rc_target_kind_name), never a copy.
 */
#include "cli.h"

#include <string.h>

static const char completion_usage[] =
    "usage: rulec completion bash|zsh|fish\n"
    "       rulec completion kinds [--target T]    (the kinds, one a line)\n"
    "       rulec completion targets\n"
    "\n"
    "Prints a completion script for the shell: subcommands, their options, the\n"
    "kinds of the selected --target after --kind, and files by extension (.rules\n"
    "and .rbc for policies, .json/.yaml for specs, .test.yaml for tests).\n"
    "\n"
    "example:\n"
    "  source <(rulec completion bash)                       # bash, now\n"
    "  rulec completion zsh > ~/.zfunc/_rulec                 # zsh (fpath)\n"
    "  rulec completion fish > ~/.config/fish/completions/rulec.fish\n"
    "make install puts all three where the shells look for them.\n";

/* The subcommands and their options (the scripts are made from these). */
#define COMMANDS "check compile disasm apply test fmt eval completion keygen verify"
#define OPTS_CHECK "--target --format --strict --color --help"
#define OPTS_COMPILE "--target --output -o --sign --revision --color --help"
#define OPTS_DISASM "--target --color --help"
#define OPTS_APPLY "--kind --target --user --project --param --output --explain --request --ndjson --max-input-size --color --help"
#define OPTS_TEST "--coverage --min-coverage -k --json --junit --color --help"
#define OPTS_FMT "--check --diff --write -w --color --help"
#define OPTS_EVAL "--spec --kind --target --user --project --color --help"
#define OPTS_COMPLETION "bash zsh fish kinds targets --help"
#define OPTS_KEYGEN "--color --help"
#define OPTS_VERIFY "--key -k --color --help"

static const char bash_script[] =
    "# bash completion for rulec (rulec completion bash)\n"
    "_rulec_kinds() {\n"
    "    local t=dstack i\n"
    "    for ((i = 1; i < ${#COMP_WORDS[@]}; i++)); do\n"
    "        case ${COMP_WORDS[i]} in\n"
    "            --target) t=${COMP_WORDS[i+1]} ;;\n"
    "            --target=*) t=${COMP_WORDS[i]#--target=} ;;\n"
    "        esac\n"
    "    done\n"
    "    \"${COMP_WORDS[0]}\" completion kinds --target \"$t\" 2>/dev/null\n"
    "}\n"
    "_rulec() {\n"
    "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd=${COMP_WORDS[1]}\n"
    "    COMPREPLY=()\n"
    "    if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
    "        COMPREPLY=($(compgen -W \"" COMMANDS " --help --version\" -- \"$cur\"))\n"
    "        return\n"
    "    fi\n"
    "    case $prev in\n"
    "        --kind) COMPREPLY=($(compgen -W \"$(_rulec_kinds)\" -- \"$cur\")); return ;;\n"
    "        --target) COMPREPLY=($(compgen -W \"$(\"${COMP_WORDS[0]}\" completion targets 2>/dev/null)\" -- \"$cur\")); return ;;\n"
    "        --format) COMPREPLY=($(compgen -W \"text json sarif\" -- \"$cur\")); return ;;\n"
    "        --color) COMPREPLY=($(compgen -W \"auto always never\" -- \"$cur\")); return ;;\n"
    "        --output) if [ \"$cmd\" = apply ]; then COMPREPLY=($(compgen -W \"json yaml\" -- \"$cur\")); else COMPREPLY=($(compgen -f -X '!*.rbc' -- \"$cur\") $(compgen -d -- \"$cur\")); fi; return ;;\n"
    "        -o) COMPREPLY=($(compgen -f -X '!*.rbc' -- \"$cur\") $(compgen -d -- \"$cur\")); return ;;\n"
    "        --spec|--request) COMPREPLY=($(compgen -f -X '!*.@(json|yaml|yml)' -- \"$cur\") $(compgen -d -- \"$cur\")); return ;;\n"
    "        --junit) COMPREPLY=($(compgen -f -X '!*.xml' -- \"$cur\") $(compgen -d -- \"$cur\")); return ;;\n"
    "        --sign) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
    "        --key|-k) COMPREPLY=($(compgen -f -X '!*.pub' -- \"$cur\") $(compgen -d -- \"$cur\")); return ;;\n"
    "        --user|--project|--param|--min-coverage|--max-input-size|--revision) return ;;\n"
    "    esac\n"
    "    local opts\n"
    "    case $cmd in\n"
    "        check) opts=\"" OPTS_CHECK "\" ;;\n"
    "        compile) opts=\"" OPTS_COMPILE "\" ;;\n"
    "        disasm) opts=\"" OPTS_DISASM "\" ;;\n"
    "        apply) opts=\"" OPTS_APPLY "\" ;;\n"
    "        test) opts=\"" OPTS_TEST "\" ;;\n"
    "        fmt) opts=\"" OPTS_FMT "\" ;;\n"
    "        eval) opts=\"" OPTS_EVAL "\" ;;\n"
    "        keygen) opts=\"" OPTS_KEYGEN "\" ;;\n"
    "        verify) opts=\"" OPTS_VERIFY "\" ;;\n"
    "        completion) COMPREPLY=($(compgen -W \"" OPTS_COMPLETION "\" -- \"$cur\")); return ;;\n"
    "    esac\n"
    "    if [[ $cur == -* ]]; then\n"
    "        COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
    "        return\n"
    "    fi\n"
    "    case $cmd in\n"
    "        test) COMPREPLY=($(compgen -f -X '!*.test.yaml' -- \"$cur\") $(compgen -d -- \"$cur\")) ;;\n"
    "        fmt) COMPREPLY=($(compgen -f -X '!*.rules' -- \"$cur\") $(compgen -d -- \"$cur\")) ;;\n"
    "        eval|keygen) ;;\n"
    "        apply) COMPREPLY=($(compgen -f -X '!*.@(rules|rbc|json|yaml|yml)' -- \"$cur\") $(compgen -d -- \"$cur\")) ;;\n"
    "        *) COMPREPLY=($(compgen -f -X '!*.@(rules|rbc)' -- \"$cur\") $(compgen -d -- \"$cur\")) ;;\n"
    "    esac\n"
    "}\n"
    "shopt -s extglob 2>/dev/null\n"
    "complete -o filenames -F _rulec rulec\n";

static const char zsh_script[] =
    "#compdef rulec\n"
    "# zsh completion for rulec (rulec completion zsh)\n"
    "_rulec_kinds() {\n"
    "    local t=dstack i\n"
    "    for ((i = 1; i <= $#words; i++)); do\n"
    "        [[ $words[i] == --target ]] && t=$words[i+1]\n"
    "        [[ $words[i] == --target=* ]] && t=${words[i]#--target=}\n"
    "    done\n"
    "    local -a kinds\n"
    "    kinds=(${(f)\"$($words[1] completion kinds --target $t 2>/dev/null)\"})\n"
    "    _describe kind kinds\n"
    "}\n"
    "_rulec() {\n"
    "    local -a commands\n"
    "    commands=(check compile disasm apply test fmt eval completion keygen verify)\n"
    "    if (( CURRENT == 2 )); then\n"
    "        _describe command commands\n"
    "        return\n"
    "    fi\n"
    "    local common='--color[colour]:when:(auto always never)' \n"
    "    case $words[2] in\n"
    "        check) _arguments '--target[target]:target:(dstack skypilot any)' '--format[format]:format:(text json sarif)' '--strict[warnings fail too]' \"$common\" '*:policy:_files -g \"*.(rules|rbc)\"' ;;\n"
    "        compile) _arguments '--target[target]:target:(dstack skypilot any)' '-o[output]:bundle:_files -g \"*.rbc\"' '*--sign[private key]:key:_files' '--revision[revision]:revision:' \"$common\" '*:policy:_files -g \"*.(rules|rbc)\"' ;;\n"
    "        disasm) _arguments '--target[target]:target:(dstack skypilot any)' \"$common\" '*:policy:_files -g \"*.(rules|rbc)\"' ;;\n"
    "        apply) _arguments '--kind[kind]:kind:_rulec_kinds' '--target[target]:target:(dstack skypilot any)' '--user[user]:user:' '--project[project]:project:' '*--param[override]:param:' '--output[format]:format:(json yaml)' '--explain[explain]' '--request[request]:request:_files -g \"*.json\"' '--ndjson' '--max-input-size[bytes]:bytes:' \"$common\" '*:file:_files -g \"*.(rules|rbc|json|yaml|yml)\"' ;;\n"
    "        test) _arguments '--coverage' '--min-coverage[percent]:n:' '-k[pattern]:pattern:' '--json' '--junit[file]:file:_files' \"$common\" '*:test:_files -g \"*.test.yaml\"' ;;\n"
    "        fmt) _arguments '(--diff -w --write)--check' '(--check -w --write)--diff' '(--check --diff)'{-w,--write} \"$common\" '*:policy:_files -g \"*.rules\"' ;;\n"
    "        eval) _arguments '--spec[spec]:spec:_files -g \"*.(json|yaml|yml)\"' '--kind[kind]:kind:_rulec_kinds' '--target[target]:target:(dstack skypilot any)' '--user[user]:user:' '--project[project]:project:' \"$common\" '1:expression:' ;;\n"
    "        completion) _arguments '1:shell:(bash zsh fish kinds targets)' ;;\n"
    "        keygen) _arguments \"$common\" '1:private key file:_files' ;;\n"
    "        verify) _arguments '*'{-k,--key}'[public key]:key:_files -g \"*.pub\"' \"$common\" '1:bundle:_files -g \"*.rbc\"' ;;\n"
    "    esac\n"
    "}\n"
    "_rulec \"$@\"\n";

static const char fish_script[] =
    "# fish completion for rulec (rulec completion fish)\n"
    "function __rulec_kinds\n"
    "    set -l t dstack\n"
    "    set -l words (commandline -opc)\n"
    "    for i in (seq (count $words))\n"
    "        if test \"$words[$i]\" = --target; and test $i -lt (count $words)\n"
    "            set t $words[(math $i + 1)]\n"
    "        end\n"
    "    end\n"
    "    rulec completion kinds --target $t 2>/dev/null\n"
    "end\n"
    "set -l cmds " COMMANDS "\n"
    "complete -c rulec -f\n"
    "complete -c rulec -n \"not __fish_seen_subcommand_from $cmds\" -a \"$cmds\"\n"
    "complete -c rulec -l color -x -a 'auto always never' -d 'colour'\n"
    "complete -c rulec -l help -d 'options and an example'\n"
    "complete -c rulec -n \"not __fish_seen_subcommand_from $cmds\" -l version -d 'version, commit, libraries'\n"
    "complete -c rulec -n '__fish_seen_subcommand_from check compile disasm apply eval' -l target -x -a '(rulec completion targets)'\n"
    "complete -c rulec -n '__fish_seen_subcommand_from apply eval' -l kind -x -a '(__rulec_kinds)'\n"
    "complete -c rulec -n '__fish_seen_subcommand_from apply eval' -l user -x\n"
    "complete -c rulec -n '__fish_seen_subcommand_from apply eval' -l project -x\n"
    "complete -c rulec -n '__fish_seen_subcommand_from check' -l format -x -a 'text json sarif'\n"
    "complete -c rulec -n '__fish_seen_subcommand_from check' -l strict\n"
    "complete -c rulec -n '__fish_seen_subcommand_from compile' -s o -l output -r -F\n"
    "complete -c rulec -n '__fish_seen_subcommand_from compile' -l sign -r -F\n"
    "complete -c rulec -n '__fish_seen_subcommand_from compile' -l revision -x\n"
    "complete -c rulec -n '__fish_seen_subcommand_from keygen' -F\n"
    "complete -c rulec -n '__fish_seen_subcommand_from verify' -s k -l key -r -a '(__fish_complete_suffix .pub)'\n"
    "complete -c rulec -n '__fish_seen_subcommand_from verify' -a '(__fish_complete_suffix .rbc)'\n"
    "complete -c rulec -n '__fish_seen_subcommand_from apply' -l param -x\n"
    "complete -c rulec -n '__fish_seen_subcommand_from apply' -l output -x -a 'json yaml'\n"
    "complete -c rulec -n '__fish_seen_subcommand_from apply' -l explain\n"
    "complete -c rulec -n '__fish_seen_subcommand_from apply' -l request -r -F\n"
    "complete -c rulec -n '__fish_seen_subcommand_from apply' -l ndjson\n"
    "complete -c rulec -n '__fish_seen_subcommand_from test' -l coverage\n"
    "complete -c rulec -n '__fish_seen_subcommand_from test' -l min-coverage -x\n"
    "complete -c rulec -n '__fish_seen_subcommand_from test' -s k -x\n"
    "complete -c rulec -n '__fish_seen_subcommand_from test' -l json\n"
    "complete -c rulec -n '__fish_seen_subcommand_from test' -l junit -r -F\n"
    "complete -c rulec -n '__fish_seen_subcommand_from fmt' -l check\n"
    "complete -c rulec -n '__fish_seen_subcommand_from fmt' -l diff\n"
    "complete -c rulec -n '__fish_seen_subcommand_from fmt' -s w -l write\n"
    "complete -c rulec -n '__fish_seen_subcommand_from eval' -l spec -r -F\n"
    "complete -c rulec -n '__fish_seen_subcommand_from completion' -x -a 'bash zsh fish kinds targets'\n"
    "complete -c rulec -n '__fish_seen_subcommand_from check compile disasm apply' -a '(__fish_complete_suffix .rules; __fish_complete_suffix .rbc)'\n"
    "complete -c rulec -n '__fish_seen_subcommand_from fmt' -a '(__fish_complete_suffix .rules)'\n"
    "complete -c rulec -n '__fish_seen_subcommand_from test' -a '(__fish_complete_suffix .test.yaml)'\n";

int cli_completion(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(completion_usage, stdout);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "bash") == 0) {
        fputs(bash_script, stdout);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "zsh") == 0) {
        fputs(zsh_script, stdout);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "fish") == 0) {
        fputs(fish_script, stdout);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "targets") == 0) {
        for (size_t i = 0; rc_target_name(i); i++)
            puts(rc_target_name(i));
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "kinds") == 0) {
        const char *target = "dstack";
        if (argc == 4 && strcmp(argv[2], "--target") == 0)
            target = argv[3];
        else if (argc == 3 && strncmp(argv[2], "--target=", 9) == 0)
            target = argv[2] + 9;
        else if (argc != 2) {
            fprintf(stderr, "rulec completion: kinds takes only --target T\n");
            return EXIT_TROUBLE;
        }
        char why[512];
        if (!rc_target_has_kind(target, NULL, why, sizeof why)) {
            fprintf(stderr, "rulec completion: %s\n", why);
            return EXIT_TROUBLE;
        }
        for (size_t i = 0; rc_target_kind_name(target, i); i++)
            puts(rc_target_kind_name(target, i));
        return 0;
    }
    fprintf(stderr, "rulec completion: say which shell: bash, zsh or fish\n\n%s", completion_usage);
    return EXIT_TROUBLE;
}
