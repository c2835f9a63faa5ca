"""Storage: the project directory, atomic writes, trial artifacts and the exported artifact."""

from autodeep.storage.files import atomic_write_bytes, atomic_write_json, read_json, replace_directory
from autodeep.storage.project import Project

__all__ = ["Project", "atomic_write_bytes", "atomic_write_json", "read_json", "replace_directory"]
