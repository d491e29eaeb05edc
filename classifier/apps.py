from django.apps import AppConfig


class ClassifierConfig(AppConfig):
    name = "classifier"
    verbose_name = "Clothing classifier"

    def ready(self) -> None:
        from . import multipart

        multipart.install()  # uploads named in non-UTF-8 bytes are parsed, not dropped
