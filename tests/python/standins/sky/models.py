# SPDX-License-Identifier: Apache-2.0
import dataclasses
from typing import Optional


@dataclasses.dataclass
class User:
    id: str
    name: Optional[str] = None
    user_type: Optional[str] = None

    def to_dict(self):
        return {"id": self.id, "name": self.name, "user_type": self.user_type}
