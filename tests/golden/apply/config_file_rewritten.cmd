apply rules/ tests/data/dstack/yaml/examples_misc_http.server_.dstack.yml --kind run
