# SPDX-License-Identifier: Apache-2.0
"""_native.py - the ctypes binding of librulec (the compiler and the VM in
one shared library: compiler/rulec.h and vm/rulevm.h), and how it is found.

Only this module knows C: the structures mirror the public headers field
for field, and every function the package calls is declared here with its
argument and result types, so a wrong call is a TypeError in Python rather
than memory corruption in C. ctypes releases the GIL around each call, so
threads evaluating with their own VMs run in parallel.

Where the library comes from, first match wins:
  1. $PYRULES_LIBRULEC, a path to the library file (nothing else is tried:
     an explicit choice that fails is an error, never a silent fallback);
  2. the build of the repository this package sits in
     (<repo>/build/librulec.so.<ABI>, when python/pyrules is inside it);
  3. the dynamic linker's own search (librulec.so.<ABI>: LD_LIBRARY_PATH,
     the ldconfig cache, ctypes.util.find_library("rulec"));
  4. the usual install directories (<sys.prefix>/lib, /usr/local/lib,
     /usr/lib), for a `make install` not followed by ldconfig.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading
from ctypes import (POINTER, Structure, c_char, c_char_p, c_int, c_int32, c_size_t, c_uint,
                    c_uint32, c_uint64, c_ulong, c_void_p)

from .errors import LibraryNotFound

#: The ABI this binding is written for, as the library's SONAME names it:
#: librulec.so.<ABI> (RV_VERSION_MAJOR in vm/rulevm.h, or 0.MINOR while the
#: major version is 0: each 0.x minor may change the structs).
ABI = "0.3"
SONAME = "librulec.so.%s" % ABI
ENV_LIBRARY = "PYRULES_LIBRULEC"

# ---- rulevm.h ----

RV_OK, RV_ENOMEM, RV_EFORMAT, RV_EVERIFY, RV_EPARSE, RV_ELIMIT, RV_EPARAM, RV_EPOLICY, RV_EINPUT, \
    RV_EEVAL = range(10)
RV_AUTO, RV_JSON, RV_YAML = range(3)
RV_NULL, RV_BOOL, RV_INT, RV_FLOAT, RV_STRING, RV_ARRAY, RV_OBJECT = range(7)
RV_PRETTY = 1


class rv_error(Structure):
    _fields_ = [("status", c_int), ("line", c_ulong), ("column", c_ulong), ("message", c_char * 512)]


class rv_config(Structure):
    _fields_ = [("alloc", c_void_p), ("alloc_ud", c_void_p), ("instruction_budget", c_uint64),
                ("regex_match_limit", c_uint32), ("regex_depth_limit", c_uint32),
                ("max_nesting", c_uint32)]


class rv_blob(Structure):
    _fields_ = [("data", c_void_p), ("size", c_size_t), ("name", c_char_p)]


class rv_policy_info(Structure):
    _fields_ = [("name", c_char_p), ("source", c_char_p), ("priority", c_int32),
                ("checksum", c_uint32), ("nkinds", c_size_t), ("kinds", POINTER(c_char_p)),
                ("nparams", c_size_t), ("ninstructions", c_size_t), ("bundle", c_size_t),
                ("target", c_char_p)]


class rv_request(Structure):
    _fields_ = [("kind", c_char_p), ("user", c_char_p), ("project", c_char_p), ("request", c_void_p),
                ("target", c_char_p)]


class rv_message(Structure):
    _fields_ = [("text", c_char_p), ("policy", c_char_p), ("line", c_uint32), ("redacted", c_char_p)]


class rv_change(Structure):
    _fields_ = [("path", c_char_p), ("old_value", c_void_p), ("new_value", c_void_p),
                ("policy", c_char_p), ("line", c_uint32), ("secret", c_int)]


class rv_decision(Structure):
    _fields_ = [("allowed", c_int), ("spec", c_void_p),
                ("errors", POINTER(rv_message)), ("nerrors", c_size_t),
                ("warnings", POINTER(rv_message)), ("nwarnings", c_size_t),
                ("changes", POINTER(rv_change)), ("nchanges", c_size_t),
                ("instructions", c_uint64)]


# ---- rulec.h ----

RC_BUNDLE = 1
RC_COVERAGE = 2
RC_OK, RC_INVALID, RC_FAILED = range(3)
RC_ERROR, RC_WARNING, RC_NOTE = range(3)
RC_FORM_UNKNOWN, RC_FORM_BUNDLE, RC_FORM_SOURCE, RC_FORM_NO_RULES = range(4)
#: The first bytes of every bundle (vm/program.h).
BUNDLE_MAGIC = b"\x7fRBC"


class rc_input(Structure):
    _fields_ = [("name", c_char_p), ("data", c_void_p), ("size", c_size_t), ("has_priority", c_int),
                ("priority", c_int32), ("tag", c_size_t)]


class rc_options(Structure):
    _fields_ = [("vm", POINTER(rv_config)), ("flags", c_uint), ("target", c_char_p)]


class rc_span(Structure):
    _fields_ = [("first_line", c_int), ("first_column", c_int), ("last_line", c_int),
                ("last_column", c_int)]


class rc_diagnostic(Structure):
    _fields_ = [("severity", c_int), ("file", c_char_p), ("span", rc_span), ("message", c_char_p)]


#: rc_secret_fn: told each secret value's text (valid during the call only).
SECRET_FN = ctypes.CFUNCTYPE(None, c_void_p, c_void_p, c_size_t)

# name: (result type, argument types)
_PROTOTYPES = {
    "rv_config_init": (None, [POINTER(rv_config)]),
    "rv_status_name": (c_char_p, [c_int]),
    "rv_program_free": (None, [c_void_p]),
    "rv_program_set_param": (c_int, [c_void_p, c_char_p, c_char_p, c_char_p, POINTER(rv_error)]),
    "rv_program_policy_count": (c_size_t, [c_void_p]),
    "rv_program_policy": (None, [c_void_p, c_size_t, POINTER(rv_policy_info)]),
    "rv_program_param": (None, [c_void_p, c_size_t, c_size_t, POINTER(c_char_p), POINTER(c_char_p)]),
    "rv_program_declares": (c_int, [c_void_p, c_size_t, c_char_p]),
    "rv_program_digest": (c_char_p, [c_void_p]),
    "rv_program_policy_digest": (c_char_p, [c_void_p, c_size_t]),
    "rv_program_disasm": (c_int, [c_void_p, c_void_p, POINTER(c_void_p), POINTER(c_size_t),
                                  POINTER(rv_error)]),
    "rv_program_save": (c_int, [c_void_p, c_void_p, POINTER(c_void_p), POINTER(c_size_t),
                                POINTER(rv_error)]),
    "rv_vm_new": (c_int, [POINTER(rv_config), POINTER(c_void_p)]),
    "rv_vm_free": (None, [c_void_p]),
    "rv_vm_reset": (None, [c_void_p]),
    "rv_vm_parse": (c_int, [c_void_p, c_char_p, c_size_t, c_int, POINTER(c_void_p), POINTER(rv_error)]),
    "rv_vm_print": (c_int, [c_void_p, c_void_p, c_int, c_int, POINTER(c_void_p), POINTER(c_size_t),
                            POINTER(rv_error)]),
    "rv_vm_eval": (c_int, [c_void_p, c_void_p, POINTER(rv_request), c_void_p, POINTER(rv_decision),
                           POINTER(rv_error)]),
    "rv_vm_redacted_error": (c_char_p, [c_void_p]),
    "rc_report_new": (c_void_p, []),
    "rc_report_free": (None, [c_void_p]),
    "rc_read_input": (c_int, [c_void_p, c_char_p, c_size_t, c_size_t, c_void_p, c_void_p]),
    "rc_report_inputs": (POINTER(rc_input), [c_void_p, POINTER(c_size_t)]),
    "rc_load": (c_int, [c_void_p, POINTER(rc_input), c_size_t, POINTER(rc_options), POINTER(c_void_p)]),
    "rc_target_has_kind": (c_int, [c_char_p, c_char_p, c_void_p, c_size_t]),
    "rc_request_target": (c_char_p, [c_char_p, c_char_p]),
    "rc_set_param": (c_int, [c_void_p, c_char_p, c_char_p, c_char_p, POINTER(rv_error)]),
    "rc_report_diagnostics": (POINTER(rc_diagnostic), [c_void_p, POINTER(c_size_t)]),
    "rc_report_errors": (c_int, [c_void_p]),
    "rc_report_text": (c_char_p, [c_void_p, c_char_p, POINTER(c_size_t)]),
    "rc_report_policy_tag": (c_size_t, [c_void_p, c_size_t]),
    "rc_report_input_form": (c_int, [c_void_p, c_size_t]),
    "rc_secret_values": (c_size_t, [c_char_p, c_char_p, c_void_p, SECRET_FN, c_void_p]),
}

_lock = threading.Lock()
_lib = None
_lib_path = None


def _candidates():
    """(how, what to dlopen) in the order tried."""
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    if os.path.isfile(os.path.join(repo, "vm", "rulevm.h")):
        yield "the repository's build", os.path.join(repo, "build", SONAME)
    yield "the dynamic linker's search", SONAME
    found = ctypes.util.find_library("rulec")
    if found:
        yield "ctypes.util.find_library", found
    for d in (os.path.join(sys.prefix, "lib"), "/usr/local/lib", "/usr/lib"):
        yield "the install directory " + d, os.path.join(d, SONAME)


def _open():
    explicit = os.environ.get(ENV_LIBRARY)
    if explicit:
        try:
            return ctypes.CDLL(explicit), explicit
        except OSError as e:
            raise LibraryNotFound("cannot load librulec from $%s=%s: %s" % (ENV_LIBRARY, explicit, e)) from None
    tried = []
    for how, what in _candidates():
        if os.sep in what and not os.path.exists(what):
            tried.append("%s (%s: no such file)" % (what, how))
            continue
        try:
            return ctypes.CDLL(what), what
        except OSError as e:
            tried.append("%s (%s: %s)" % (what, how, e))
    raise LibraryNotFound(
        "cannot find librulec (the policy compiler and VM, %s); tried: %s. Build it with `make` in "
        "the repository, or `make install` it (then run ldconfig), or set $%s to its path"
        % (SONAME, "; ".join(tried), ENV_LIBRARY))


def lib():
    """The loaded library with every prototype declared (loaded once)."""
    global _lib, _lib_path
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is None:
            handle, path = _open()
            for name, (restype, argtypes) in _PROTOTYPES.items():
                try:
                    fn = getattr(handle, name)
                except AttributeError:
                    raise LibraryNotFound("%s does not export %s: not librulec %s" % (path, name, ABI)) from None
                fn.restype = restype
                fn.argtypes = argtypes
            _lib_path = path
            _lib = handle
    return _lib


def library_path():
    """What the library was loaded from (loading it if needed)."""
    lib()
    return _lib_path


def text(b, errors="replace"):
    """A C string (bytes or None) as str; None stays None."""
    return None if b is None else b.decode("utf-8", errors)


def status_name(status):
    return text(lib().rv_status_name(status))
