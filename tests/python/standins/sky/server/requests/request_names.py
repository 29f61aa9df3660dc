# SPDX-License-Identifier: Apache-2.0
import enum


class AdminPolicyRequestName(str, enum.Enum):
    """The requests SkyPilot asks admin policies about."""
    VALIDATE = "validate"
    OPTIMIZE = "optimize"
    CLUSTER_LAUNCH = "launch"
    CLUSTER_EXEC = "exec"
    JOBS_LAUNCH = "jobs.launch"
    JOBS_POOL_APPLY = "jobs.pool_apply"
    SERVE_UP = "serve.up"
    SERVE_UPDATE = "serve.update"
