/* schemas.S - the targets' JSON Schemas (schemas/, with their provenance in
 * SPDX-License-Identifier: Apache-2.0
 * schemas/README.md), built into the compiler as bytes, so that rulec and
 * rulesd check policies with no data files to find at run time. Each blob
 * ends in a NUL; target.c knows their names. Paths are relative to the
 * repository root, where make runs. */
#define BLOB(sym, file)         \
    .global sym;                \
    .balign 8;                  \
sym:                            \
    .incbin file;               \
    .byte 0;                    \
    .global sym##_end;          \
sym##_end:

    .section .rodata
BLOB(rc_schema_dstack_run, "schemas/dstack/run.json")
BLOB(rc_schema_dstack_fleet, "schemas/dstack/fleet.json")
BLOB(rc_schema_dstack_volume, "schemas/dstack/volume.json")
BLOB(rc_schema_dstack_gateway, "schemas/dstack/gateway.json")
BLOB(rc_schema_skypilot_task, "schemas/skypilot/task.json")
BLOB(rc_schema_skypilot_config, "schemas/skypilot/config.json")
BLOB(rc_secrets_dstack, "schemas/dstack/secrets.json")
BLOB(rc_secrets_skypilot, "schemas/skypilot/secrets.json")

    .section .note.GNU-stack,"",@progbits
