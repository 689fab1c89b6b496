"""Filters on paths of the VM that the roles' checks share (Jinja cannot say "inside" without string games)."""
from posixpath import normpath


def _inside(path: str, folder: str) -> bool:
    path, folder = normpath(path), normpath(folder)
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def paths_overlapping(folder: str, others: list) -> list:
    """The paths of `others` that are `folder` itself, inside it or around it."""
    return [other for other in others if _inside(other, folder) or _inside(folder, other)]


class FilterModule:
    def filters(self):
        return {"paths_overlapping": paths_overlapping}
