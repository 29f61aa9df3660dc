" SPDX-License-Identifier: Apache-2.0
" ftdetect/rules.vim - *.rules files are policies of the rules language.
" 'set filetype' (not setfiletype): Vim's own detection already calls
" *.rules Snort's "hog", and this must win.
autocmd BufNewFile,BufRead *.rules set filetype=rules
