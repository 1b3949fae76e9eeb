"""Being written."""

from telegram.ext import Application


def register(application: Application) -> None:  # type: ignore[type-arg]
    return None
