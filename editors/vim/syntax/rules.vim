" SPDX-License-Identifier: Apache-2.0
" syntax/rules.vim - Vim syntax for the rules policy language (.rules).
" Keywords are grammar/lexer.l's (tests/run-editors.sh checks that every
" one of them is here); literals: strings with {...} templates and
" escapes, durations (1h, 1.5d), sizes (24GB), numbers, regexes with
" flags after =~ and !~, $names, comments.
if exists("b:current_syntax")
  finish
endif

syn keyword rulesStructure policy priority param on
syn match   rulesStructure "\<target\>\ze\s\+\h"
syn keyword rulesStatement set default unset append warn forbid
syn match   rulesStatement "\<append-tags\>"
syn match   rulesStatement "\<forbid-if\>"
syn match   rulesStatement "\<warn-if\>"
syn keyword rulesConditional match else
syn keyword rulesRepeat each
syn keyword rulesOperator any all sum in and or not
syn keyword rulesConstant null true false

" After '.', a keyword is a field name (x.default): the match starts at
" the dot, so no keyword can start inside it.
syn match   rulesField "\.\h\w*"
syn match   rulesVariable "\$\h\w*"
syn match   rulesFunction "\<\h\w*\ze("

syn match   rulesNumber "\<\d\+\(\.\d\+\)\=\([eE][+-]\=\d\+\)\=\>"
syn match   rulesDuration "\<\d\+\(\.\d\+\)\=[smhdw]\>"
syn match   rulesSize "\<\d\+\(\.\d\+\)\=[MGT]B\>"

syn match   rulesEscape contained "\\[\\\"nrt/{}]\|\\u\x\{4}"
syn region  rulesTemplate contained matchgroup=rulesTemplateBrace start="{" end="}" contains=rulesVariable,rulesField,rulesFunction,rulesNumber,rulesOperator,rulesConstant
syn region  rulesString start=+"+ skip=+\\\\\|\\"+ end=+"+ oneline contains=rulesEscape,rulesTemplate

" A regex literal follows =~ or !~: /pattern/flags.
syn match   rulesRegexOp "[=!]\~" nextgroup=rulesRegex skipwhite
syn region  rulesRegex contained start="/" skip="\\/\|\[[^]]*\]" end="/[imsx]*" oneline

syn keyword rulesTodo contained TODO FIXME XXX NOTE
syn match   rulesComment "#.*$" contains=rulesTodo

hi def link rulesStructure      Keyword
hi def link rulesStatement      Statement
hi def link rulesConditional    Conditional
hi def link rulesRepeat         Repeat
hi def link rulesOperator       Operator
hi def link rulesRegexOp        Operator
hi def link rulesConstant       Constant
hi def link rulesVariable       Identifier
hi def link rulesFunction       Function
hi def link rulesNumber         Number
hi def link rulesDuration       Number
hi def link rulesSize           Number
hi def link rulesString         String
hi def link rulesEscape         SpecialChar
hi def link rulesTemplateBrace  Special
hi def link rulesRegex          String
hi def link rulesComment        Comment
hi def link rulesTodo           Todo

let b:current_syntax = "rules"
