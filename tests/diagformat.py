#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""diagformat.py - assertions for tests/run-cli.sh on `rulec check --format`:
one run's three outputs checked against each other and against the formats'
rules.

  diagformat.py TEXT JSON SARIF VERSION

TEXT is the run's standard error with the text format ("-": skip the
cross-check), JSON and SARIF its standard output with --format json and
sarif, VERSION rulec's. JSON: valid UTF-8 and JSON (no duplicate keys), the
documented keys in the documented order, notes nested, counts that add up,
and every record's `file:line:col: severity: message` line found in TEXT in
order. SARIF: the properties SARIF 2.1.0's schema requires (sarifLog:
version, runs; run: tool; tool: driver; toolComponent: name; result:
message; message: text; physicalLocation: artifactLocation; region:
startLine), its enums and minimums, no property the schema does not define
on the objects rulec writes (they are additionalProperties: false), unique
relatedLocations, uris that are URI references, and the same records as the
JSON document. Exit status 0 = pass; otherwise one line per problem."""
import json
import re
import sys

problems = []


def fail(msg):
    problems.append(msg)


def load(path):
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")  # strict: RFC 8259 8.1
    except UnicodeDecodeError as e:
        fail(f"{path}: not UTF-8: {e}")
        text = raw.decode("utf-8", "replace")

    def no_dups(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            fail(f"{path}: duplicate keys in {keys}")
        return dict(pairs)

    return json.loads(text, object_pairs_hook=no_dups)


def keys_are(obj, expected, where):
    if not isinstance(obj, dict) or list(obj) != expected:
        fail(f"{where}: keys {list(obj) if isinstance(obj, dict) else obj!r}, expected {expected}")
        return False
    return True


def check_span(span, where):
    if span is None:
        return
    if not keys_are(span, ["start", "end"], where):
        return
    for end in ("start", "end"):
        pos = span[end]
        if keys_are(pos, ["line", "column"], f"{where}.{end}"):
            for k in ("line", "column"):
                if not isinstance(pos[k], int) or pos[k] < 1:
                    fail(f"{where}.{end}.{k} = {pos[k]!r}, not a 1-based number")
    s, e = span["start"], span["end"]
    if (e["line"], e["column"]) < (s["line"], s["column"]):
        fail(f"{where}: ends before it starts")


def check_json(doc):
    if not keys_are(doc, ["diagnostics", "counts"], "json"):
        return []
    records = []
    for i, r in enumerate(doc["diagnostics"]):
        where = f"json.diagnostics[{i}]"
        if not keys_are(r, ["severity", "file", "span", "message", "notes"], where):
            continue
        records.append(r)
        for k, n in enumerate(r["notes"]):
            if keys_are(n, ["severity", "file", "span", "message"], f"{where}.notes[{k}]"):
                if n["severity"] != "note":
                    fail(f"{where}.notes[{k}].severity is {n['severity']!r}")
                records.append(n)
    for r in records:
        if r["severity"] not in ("error", "warning", "note"):
            fail(f"json: severity {r['severity']!r}")
        if not (r["file"] is None or isinstance(r["file"], str)) or not isinstance(r["message"], str):
            fail(f"json: file or message of {r!r}")
        if r["file"] is None and r["span"] is not None:
            fail(f"json: a span with no file in {r!r}")
        check_span(r["span"], f"json record {r['message']!r}")
    counts = doc["counts"]
    if keys_are(counts, ["errors", "warnings", "notes"], "json.counts"):
        for sev, key in (("error", "errors"), ("warning", "warnings"), ("note", "notes")):
            n = sum(1 for r in records if r["severity"] == sev)
            if counts[key] != n:
                fail(f"json.counts.{key} = {counts[key]}, the records hold {n}")
    return records


def header_line(r):
    if r["file"] is None:
        return f"rulec: {r['severity']}: {r['message']}"
    if r["span"] is None:
        return f"{r['file']}: {r['severity']}: {r['message']}"
    s = r["span"]["start"]
    return f"{r['file']}:{s['line']}:{s['column']}: {r['severity']}: {r['message']}"


def check_text(path, records):
    with open(path, "rb") as f:
        lines = f.read().decode("utf-8", "replace").split("\n")
    at = 0
    for r in records:
        want = header_line(r)
        while at < len(lines) and lines[at] != want:
            at += 1
        if at == len(lines):
            fail(f"text: no line {want!r} (in order)")
            return
        at += 1


# The properties SARIF 2.1.0's schema defines on the objects rulec writes
# (each is "additionalProperties": false there).
ALLOWED = {
    "sarifLog": {"$schema", "version", "runs", "inlineExternalProperties", "properties"},
    "toolComponent": {"guid", "name", "organization", "product", "productSuite", "shortDescription",
                      "fullDescription", "fullName", "version", "semanticVersion",
                      "dottedQuadFileVersion", "releaseDateUtc", "downloadUri", "informationUri",
                      "globalMessageStrings", "notifications", "rules", "taxa", "locations",
                      "language", "contents", "isComprehensive", "localizedDataSemanticVersion",
                      "minimumRequiredLocalizedDataSemanticVersion", "associatedComponent",
                      "translationMetadata", "supportedTaxonomies", "properties"},
    "reportingDescriptor": {"id", "deprecatedIds", "guid", "deprecatedGuids", "name", "deprecatedNames",
                            "shortDescription", "fullDescription", "messageStrings",
                            "defaultConfiguration", "helpUri", "help", "relationships", "properties"},
    "location": {"id", "physicalLocation", "logicalLocations", "message", "annotations",
                 "relationships", "properties"},
    "physicalLocation": {"address", "artifactLocation", "region", "contextRegion", "properties"},
    "artifactLocation": {"uri", "uriBaseId", "index", "description", "properties"},
    "region": {"startLine", "startColumn", "endLine", "endColumn", "charOffset", "charLength",
               "byteOffset", "byteLength", "snippet", "message", "sourceLanguage", "properties"},
    "message": {"text", "markdown", "id", "arguments", "properties"},
}
URI_REF = re.compile(r"^([A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*$")


def obj(v, kind, where, required=()):
    if not isinstance(v, dict):
        fail(f"{where}: not an object")
        return False
    extra = set(v) - ALLOWED.get(kind, set(v))
    if extra:
        fail(f"{where}: properties SARIF does not define on a {kind}: {sorted(extra)}")
    for k in required:
        if k not in v:
            fail(f"{where}: required property '{k}' missing")
    return True


def check_message(m, where):
    if obj(m, "message", where) and not isinstance(m.get("text"), str):
        fail(f"{where}: message needs a text (rulec writes no message ids)")


def check_location(loc, where):
    if not obj(loc, "location", where):
        return None
    if "id" in loc and (not isinstance(loc["id"], int) or loc["id"] < -1):
        fail(f"{where}.id = {loc['id']!r}")
    if "message" in loc:
        check_message(loc["message"], f"{where}.message")
    pl = loc.get("physicalLocation")
    if pl is None:
        return None
    if not obj(pl, "physicalLocation", f"{where}.physicalLocation", ["artifactLocation"]):
        return None
    al = pl.get("artifactLocation", {})
    if obj(al, "artifactLocation", f"{where}.artifactLocation", ["uri"]):
        if not isinstance(al.get("uri"), str) or not URI_REF.match(al["uri"]):
            fail(f"{where}: uri {al.get('uri')!r} is not a URI reference")
    region = pl.get("region")
    if region is not None and obj(region, "region", f"{where}.region", ["startLine"]):
        for k in ("startLine", "startColumn", "endLine", "endColumn"):
            if not isinstance(region.get(k), int) or region[k] < 1:
                fail(f"{where}.region.{k} = {region.get(k)!r} (minimum 1)")
    return al.get("uri"), region


def uri_to_path(uri):
    out = bytearray()
    i = 0
    while i < len(uri):
        if uri[i] == "%":
            out.append(int(uri[i + 1:i + 3], 16))
            i += 3
        else:
            out += uri[i].encode()
            i += 1
    return out.decode("utf-8", "replace")


def check_sarif(log, version, records):
    if not obj(log, "sarifLog", "sarif", ["version", "runs"]):
        return
    if log.get("version") != "2.1.0":
        fail(f"sarif.version = {log.get('version')!r}")
    if log.get("$schema") != "https://json.schemastore.org/sarif-2.1.0.json":
        fail(f"sarif.$schema = {log.get('$schema')!r}")
    runs = log.get("runs")
    if not isinstance(runs, list) or len(runs) != 1:
        fail("sarif.runs is not a list of one run")
        return
    run = runs[0]
    if not isinstance(run, dict) or "tool" not in run:
        fail("sarif.runs[0]: required property 'tool' missing")
        return
    if run.get("columnKind") not in (None, "utf16CodeUnits", "unicodeCodePoints"):
        fail(f"columnKind {run.get('columnKind')!r}")
    tool = run["tool"]
    if not isinstance(tool, dict) or "driver" not in tool:
        fail("sarif tool: required property 'driver' missing")
        return
    driver = tool["driver"]
    if obj(driver, "toolComponent", "driver", ["name"]):
        if driver.get("name") != "rulec" or driver.get("version") != version:
            fail(f"driver is {driver.get('name')!r} {driver.get('version')!r}, expected rulec {version}")
    rule_ids = set()
    for i, rule in enumerate(driver.get("rules", [])):
        if obj(rule, "reportingDescriptor", f"driver.rules[{i}]", ["id"]):
            rule_ids.add(rule.get("id"))
    results = run.get("results")
    if not isinstance(results, list):
        fail("sarif.runs[0].results missing (a scan's log must have it, maybe empty)")
        return
    # The same records as the JSON document, in order: each top-level
    # record a result, its notes the result's relatedLocations.
    by_top = []
    for r in records:
        if r is records[0] or r["severity"] != "note":
            by_top.append([r, []])
        else:
            by_top[-1][1].append(r)
    if len(results) != len(by_top):
        fail(f"sarif has {len(results)} results, json {len(by_top)} records")
        return
    for i, (res, (rec, notes)) in enumerate(zip(results, by_top)):
        where = f"results[{i}]"
        if not isinstance(res, dict) or "message" not in res:
            fail(f"{where}: required property 'message' missing")
            continue
        check_message(res["message"], f"{where}.message")
        if res.get("level") not in ("none", "note", "warning", "error"):
            fail(f"{where}.level = {res.get('level')!r}")
        if res.get("ruleId") not in rule_ids:
            fail(f"{where}.ruleId {res.get('ruleId')!r} is not among the driver's rules")
        if res.get("level") != rec["severity"] or res["message"].get("text") != rec["message"]:
            fail(f"{where} differs from the json record {rec!r}")
        locs = res.get("locations")
        if rec["file"] is None:
            if locs is not None:
                fail(f"{where}: a record with no file has locations")
        elif not isinstance(locs, list) or len(locs) != 1:
            fail(f"{where}: expected one location")
        else:
            got = check_location(locs[0], f"{where}.locations[0]")
            if got:
                compare_place(got, rec, where)
        related = res.get("relatedLocations", [])
        if len(related) != len(notes):
            fail(f"{where}: {len(related)} relatedLocations for {len(notes)} notes")
            continue
        if len({json.dumps(x, sort_keys=True) for x in related}) != len(related):
            fail(f"{where}: relatedLocations are not unique")
        for k, (loc, note) in enumerate(zip(related, notes)):
            got = check_location(loc, f"{where}.relatedLocations[{k}]")
            if loc.get("message", {}).get("text") != note["message"]:
                fail(f"{where}.relatedLocations[{k}] message differs from the note")
            if note["file"] is not None and got:
                compare_place(got, note, f"{where}.relatedLocations[{k}]")


def compare_place(got, rec, where):
    uri, region = got
    if uri_to_path(uri) != rec["file"]:
        fail(f"{where}: uri {uri!r} is not the file {rec['file']!r}")
    if (region is None) != (rec["span"] is None):
        fail(f"{where}: region {region!r} but span {rec['span']!r}")
    elif region is not None:
        s, e = rec["span"]["start"], rec["span"]["end"]
        if (region["startLine"], region["endLine"]) != (s["line"], e["line"]):
            fail(f"{where}: region lines {region} differ from span {rec['span']}")
        # Columns: bytes in json, code points in sarif; never more.
        if region["startColumn"] > s["column"] or region["endColumn"] > e["column"]:
            fail(f"{where}: region columns {region} past the span's {rec['span']}")


def main():
    text_path, json_path, sarif_path, version = sys.argv[1:5]
    records = check_json(load(json_path))
    if text_path != "-":
        check_text(text_path, records)
    check_sarif(load(sarif_path), version, records)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
