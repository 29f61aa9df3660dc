import logging


def get_plugin_logger(name):
    return logging.getLogger(name)
