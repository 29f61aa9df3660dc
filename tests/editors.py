# SPDX-License-Identifier: Apache-2.0
# editors.py - checks of editors/ that need Python (run by run-editors.sh):
#   keywords LEXER SYNTAXFILE...   every keyword of the scanner appears in
#                                  each syntax file (as a word)
#   tm GRAMMAR LEXER               the TextMate grammar's patterns compile
#                                  and mark each keyword, and literals
#   validate SCHEMA FILE...        each YAML file is valid against the JSON
#                                  Schema ("ok NAME" / "invalid NAME: why")
# Prints one line per check: "ok ..." or "FAIL ...".
import json
import re
import sys


def keywords(lexer):
    kws = re.findall(r'^"([a-z-]+)"\s+return TOK_KW_', open(lexer).read(), re.M)
    if len(kws) < 20:
        print("FAIL found only %d keywords in %s" % (len(kws), lexer))
    return kws


def cmd_keywords(lexer, files):
    kws = keywords(lexer)
    for f in files:
        text = open(f).read()
        for k in kws:
            ok = re.search(r'(?<![\w-])' + re.escape(k) + r'(?![\w-])', text)
            print(("ok" if ok else "FAIL") + " keyword %s in %s" % (k, f))


def patterns(node):
    if isinstance(node, dict):
        for key in ("match", "begin", "end"):
            if key in node:
                yield node[key], node.get("name", "")
        for v in node.values():
            yield from patterns(v)
    elif isinstance(node, list):
        for v in node:
            yield from patterns(v)


def scope_of(grammar, text):
    """The name of the first keyword/literal pattern matching text whole."""
    for p, name in patterns(grammar["repository"]):
        if name and re.fullmatch(p, text):
            return name
    return None


def cmd_tm(path, lexer):
    g = json.load(open(path))
    for p, _ in patterns(g):
        try:
            re.compile(p)
            print("ok pattern compiles: %s" % p[:40])
        except re.error as e:
            print("FAIL pattern %r: %s" % (p, e))
    for k in keywords(lexer):
        s = scope_of(g, k)
        print(("ok" if s and ("keyword" in s or "constant.language" in s) else "FAIL") + " %s scoped %s" % (k, s))
    for text, want in [("1h", "duration"), ("1.5d", "duration"), ("24GB", "size"), ("2.0", "numeric"),
                       ("1e3", "numeric"), ("# note", "comment"), ("$user", "dollar")]:
        s = scope_of(g, text)
        print(("ok" if s and want in s else "FAIL") + " %s scoped %s" % (text, s))
    m = re.search(g["repository"]["regex"]["match"], 'x =~ /^a\\/[/]b/ix')
    print(("ok" if m and m.group(2) == '/^a\\/[/]b/' and m.group(3) == "ix" else "FAIL") + " regex with flags")
    sp = g["repository"]["string"]["patterns"]
    print(("ok" if any(p.get("begin") == "\\{" for p in sp) else "FAIL") + " template {...} in strings")


def cmd_validate(schema_path, files):
    import jsonschema
    import yaml
    schema = json.load(open(schema_path))
    jsonschema.Draft7Validator.check_schema(schema)
    v = jsonschema.Draft7Validator(schema)
    for f in files:
        doc = yaml.safe_load(open(f))
        errs = sorted(v.iter_errors(doc), key=lambda e: list(e.path))
        if errs:
            print("invalid %s: %s at %s" % (f, errs[0].message[:200], "/".join(map(str, errs[0].path))))
        else:
            print("ok %s" % f)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "keywords":
        cmd_keywords(args[0], args[1:])
    elif cmd == "tm":
        cmd_tm(args[0], args[1])
    elif cmd == "validate":
        cmd_validate(args[0], args[1:])
