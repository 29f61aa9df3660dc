# SPDX-License-Identifier: Apache-2.0
import logging


def get_plugin_logger(name):
    return logging.getLogger(name)
