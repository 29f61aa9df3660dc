// SPDX-License-Identifier: Apache-2.0
// json_floor.cpp - the JSON parsers side by side, on the same documents in
// the same run: librulevm's reader and printer (rv_vm_parse, rv_vm_print),
// cJSON (what the library used before), simdjson's DOM (the fastest parser
// Debian packages: the floor) and a memcpy of each document. The figures
// behind the decision recorded in docs/json.md; `make bench` runs it when
// g++ and simdjson (libsimdjson-dev) are there, and cJSON (libcjson-dev)
// joins when it is installed.
//
//   json_floor [--iters N] [--reps R] FILE...
//
// Each FILE is a JSON document (a dstack request body), printed compactly
// first, as dstack posts it. Prints one JSON object: per parser and phase,
// nanoseconds per document (median over R repetitions of N passes over all
// files).
#include "rulevm.h"

#ifdef HAVE_CJSON
#include <cjson/cJSON.h>
#endif
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

static double now_ns()
{
    return (double)std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

[[noreturn]] static void die(const std::string &what)
{
    std::fprintf(stderr, "json_floor: %s\n", what.c_str());
    std::exit(2);
}

int main(int argc, char **argv)
{
    long iters = 2000, reps = 7;
    std::vector<std::string> files;
    for (int i = 1; i < argc; i++) {
        if (!std::strcmp(argv[i], "--iters") && i + 1 < argc)
            iters = std::atol(argv[++i]);
        else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = std::atol(argv[++i]);
        else
            files.push_back(argv[i]);
    }
    if (files.empty() || iters < 1 || reps < 1)
        die("usage: json_floor [--iters N] [--reps R] FILE...");

    rv_vm *vm;
    if (rv_vm_new(nullptr, &vm) != RV_OK)
        die("out of memory");
    std::vector<std::string> docs;
    std::vector<simdjson::padded_string> padded;
    size_t bytes = 0;
    for (const auto &f : files) {
        std::ifstream in(f, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        std::string text = ss.str();
        rv_doc *d;
        rv_error err;
        if (rv_vm_parse(vm, text.data(), text.size(), RV_JSON, &d, &err) != RV_OK)
            die(f + ": " + err.message);
        const char *out;
        size_t len;
        if (rv_vm_print(vm, d, RV_JSON, 0, &out, &len, &err) != RV_OK)
            die(f + ": " + err.message);
        docs.emplace_back(out, len);
        padded.emplace_back(out, len);
        bytes += len;
        rv_vm_reset(vm);
    }

    simdjson::dom::parser parser;
    size_t sink = 0;
    struct bench_case {
        const char *name;
        std::function<void(size_t)> run;
    };
    std::vector<bench_case> cases;
    cases.reserve(8);
    cases.push_back({"memcpy", [&](size_t k) {
        static std::vector<char> buf(1 << 24);
        std::memcpy(buf.data(), docs[k].data(), docs[k].size());
        sink += (unsigned char)buf[docs[k].size() / 2];
    }});
    cases.push_back({"rulevm_parse", [&](size_t k) {
        rv_doc *d;
        rv_error err;
        if (rv_vm_parse(vm, docs[k].data(), docs[k].size(), RV_JSON, &d, &err) != RV_OK)
            die(err.message);
        rv_vm_reset(vm);
    }});
    cases.push_back({"rulevm_parse_print", [&](size_t k) {
        rv_doc *d;
        rv_error err;
        const char *out;
        size_t len;
        if (rv_vm_parse(vm, docs[k].data(), docs[k].size(), RV_JSON, &d, &err) != RV_OK ||
            rv_vm_print(vm, d, RV_JSON, 0, &out, &len, &err) != RV_OK)
            die(err.message);
        sink += len;
        rv_vm_reset(vm);
    }});
#ifdef HAVE_CJSON
    cases.push_back({"cjson_parse", [&](size_t k) {
        cJSON *j = cJSON_ParseWithLength(docs[k].data(), docs[k].size());
        if (!j)
            die("cJSON refused a document");
        cJSON_Delete(j);
    }});
    cases.push_back({"cjson_parse_print", [&](size_t k) {
        cJSON *j = cJSON_ParseWithLength(docs[k].data(), docs[k].size());
        char *p = j ? cJSON_PrintUnformatted(j) : nullptr;
        if (!p)
            die("cJSON refused a document");
        sink += std::strlen(p);
        std::free(p);
        cJSON_Delete(j);
    }});
#endif
    cases.push_back({"simdjson_parse", [&](size_t k) {
        simdjson::dom::element e;
        if (parser.parse(padded[k]).get(e))
            die("simdjson refused a document");
        sink += e.is_object();
    }});
    cases.push_back({"simdjson_parse_print", [&](size_t k) {
        simdjson::dom::element e;
        if (parser.parse(padded[k]).get(e))
            die("simdjson refused a document");
        std::string s = simdjson::minify(e);
        sink += s.size();
    }});

    std::printf("{\"documents\": %zu, \"bytes_per_document\": %.0f, \"iters\": %ld, \"reps\": %ld,"
                " \"cjson\": %s, \"ns_per_document\": {",
                docs.size(), (double)bytes / (double)docs.size(), iters, reps,
#ifdef HAVE_CJSON
                "true"
#else
                "false"
#endif
    );
    bool first = true;
    for (auto &c : cases) {
        for (size_t k = 0; k < docs.size(); k++)  // warm up
            for (int w = 0; w < 50; w++)
                c.run(k);
        std::vector<double> v;
        for (long r = 0; r < reps; r++) {
            double t0 = now_ns();
            for (long i = 0; i < iters; i++)
                for (size_t k = 0; k < docs.size(); k++)
                    c.run(k);
            v.push_back((now_ns() - t0) / (double)iters / (double)docs.size());
        }
        std::sort(v.begin(), v.end());
        std::printf("%s\"%s\": {\"median\": %.1f, \"min\": %.1f, \"max\": %.1f}", first ? "" : ", ",
                    c.name, v[v.size() / 2], v.front(), v.back());
        first = false;
    }
    std::printf("}, \"sink\": %zu}\n", sink % 10);
    rv_vm_free(vm);
    return 0;
}
