"""`python manage.py train_model`: train the network, publish it as a new version, activate it.

With `--include-corrections` the staff-corrected uploads stored in Cassandra join the training data
(classifier/corrections.py reads them, mlmodel/feedback.py trains on them), and the report compares
the new model with the one active before. When there are no corrections the command stops before
training and says so: the run asked for would be no different from one without the flag, and a
model published as "trained with corrections" that has none would mislead.

The command lives in the site's app because it reads Cassandra; everything it runs of the model
(loading, training, publishing, the report) is mlmodel's, which knows nothing of Django.
"""

import dataclasses
import time
from pathlib import Path

from cassandra import InvalidRequest
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from classifier.corrections import corrected_examples
from classifier.cql import CASSANDRA_DOWN
from mlmodel import artifacts
from mlmodel.data import Dataset, LabelledImages, load_fashion_mnist
from mlmodel.feedback import FeedbackReport, NoUsableCorrections, train_with_corrections
from mlmodel.novelty import load_calibration_photos
from mlmodel.publishing import publish
from mlmodel.report import summary
from mlmodel.training import PROFILES, TrainingConfig, TrainingResult, refit_none_of_the_ten, train

NEXT_STEP = "Correct labels in the admin first, or train without --include-corrections."


class Command(BaseCommand):
    help = (
        "Train the Fashion-MNIST classifier, save it with its report as a new model version "
        "and (by default) activate it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        profiles = ", ".join(
            f"{name}: {config.epochs} epochs on {config.subset or 'all'} images"
            for name, config in PROFILES.items()
        )
        parser.add_argument(
            "--profile", choices=PROFILES, default="default", help=f"{profiles} (default: %(default)s)"
        )
        parser.add_argument("--epochs", type=int, help="override the profile's number of epochs")
        parser.add_argument(
            "--subset", type=int, help="train on this many random images (default: the profile's)"
        )
        parser.add_argument("--seed", type=int, help=f"default: {PROFILES['default'].seed}")
        parser.add_argument("--batch-size", type=int, help=f"default: {PROFILES['default'].batch_size}")
        parser.add_argument(
            "--precision",
            choices=("auto", "bfloat16", "float32"),
            help="training precision (default: auto, bfloat16 where the CPU has AMX, else float32)",
        )
        parser.add_argument(
            "--data-dir",
            type=Path,
            help="directory of the four Fashion-MNIST .gz files (default: settings.FASHION_MNIST_DIR, "
            "else $FASHION_MNIST_DIR, else Keras's dataset cache)",
        )
        parser.add_argument("--model-dir", type=Path, help="where versions go (default: settings.MODEL_DIR)")
        parser.add_argument(
            "--photos-dir",
            type=Path,
            help="real photos, one folder per kind, whose tune split sets the 'none of the ten' threshold "
            "(default: settings.CLOTHING_PHOTOS_DIR; without photos, photo-like validation images set it)",
        )
        parser.add_argument("--no-activate", action="store_true", help="publish without making it active")
        parser.add_argument(
            "--refit-none-of-the-ten",
            action="store_true",
            help="do not train: publish the active model again with its 'none of the ten' rule fitted anew "
            "on the photos (their photo detector and thresholds)",
        )
        parser.add_argument(
            "--include-corrections",
            action="store_true",
            help="add the 28x28 inputs of the predictions staff corrected (read from Cassandra) to the "
            "training data; the report compares accuracy with the active model's",
        )

    def handle(self, *args, **options) -> None:
        started = time.perf_counter()
        for name in ("epochs", "batch_size", "subset"):
            if options[name] is not None and options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1")
        overrides = {
            name: options[name]
            for name in ("epochs", "subset", "seed", "batch_size", "precision")
            if options[name] is not None
        }
        config = dataclasses.replace(PROFILES[options["profile"]], **overrides)
        data_dir = options["data_dir"] or getattr(settings, "FASHION_MNIST_DIR", None)
        model_dir = Path(options["model_dir"] or getattr(settings, "MODEL_DIR", artifacts.DEFAULT_MODEL_DIR))
        if config.start_from_active:  # fine-tuning keeps the active network's width
            active = artifacts.read_metadata(_active(model_dir), model_dir)
            config = dataclasses.replace(config, width=active.get("width", 1.0))

        corrected = self._corrected_examples() if options["include_corrections"] else None
        try:
            dataset = load_fashion_mnist(data_dir)
        except (FileNotFoundError, ValueError) as error:
            raise CommandError(f"Cannot load Fashion-MNIST: {error}") from error

        photos_dir = options["photos_dir"] or getattr(settings, "CLOTHING_PHOTOS_DIR", None)
        calibration = None
        if photos_dir:
            try:
                calibration = load_calibration_photos(photos_dir)
            except FileNotFoundError as error:
                raise CommandError(str(error)) from error

        if options["refit_none_of_the_ten"]:
            if calibration is None:
                raise CommandError("--refit-none-of-the-ten needs photos: give --photos-dir")
            result = refit_none_of_the_ten(_active(model_dir), model_dir, dataset, calibration)
            self._publish(result, dataset, model_dir, None, options, started)
            return

        verbose = 1 if options["verbosity"] >= 1 else 0
        how = {"calibration": calibration, "initial_weights": _start(config, model_dir), "verbose": verbose}
        feedback = None
        if corrected is None:
            result = train(config, dataset, **how)
        else:
            try:
                result, feedback = train_with_corrections(config, dataset, corrected, model_dir, **how)
            except NoUsableCorrections as error:
                raise CommandError(f"{error} {NEXT_STEP}") from error
        self._publish(result, dataset, model_dir, feedback, options, started)

    def _publish(
        self,
        result: TrainingResult,
        dataset: Dataset,
        model_dir: Path,
        feedback: FeedbackReport | None,
        options: dict,
        started: float,
    ) -> None:
        activate = not options["no_activate"]
        version = publish(result, dataset.fingerprint(), model_dir, feedback=feedback, activate=activate)
        self.stdout.write(
            "\n".join(
                [
                    self.style.SUCCESS(_published(version, result, options["profile"])),
                    summary(result, feedback),
                    f"  written to     {model_dir / version} (report.json and PNGs beside the model)",
                    f"  active         {'yes' if activate else 'no (run without --no-activate to serve it)'}",
                    f"  command time   {time.perf_counter() - started:.1f} s",
                ]
            )
        )

    def _corrected_examples(self) -> LabelledImages:
        try:
            corrected = corrected_examples()
        except InvalidRequest as error:
            raise CommandError(
                f"Cassandra cannot list corrected predictions ({error}); run `manage.py sync_schema` "
                "to create the index on corrected_label."
            ) from error
        except CASSANDRA_DOWN as error:
            raise CommandError(f"Cannot read the corrections from Cassandra: {error}") from error
        if len(corrected) == 0:
            raise CommandError(f"--include-corrections: no corrected predictions were found. {NEXT_STEP}")
        self.stdout.write(f"Found {len(corrected)} corrected images to add to the training data.")
        return corrected


def _published(version: str, result: TrainingResult, profile: str) -> str:
    if result.weights_from is not None:
        return (
            f"Published model version {version}: the weights of {result.weights_from}, "
            "its 'none of the ten' rule fitted anew"
        )
    return f"Trained model version {version} (profile {profile})"


def _start(config: TrainingConfig, model_dir: Path) -> Path | None:
    """The saved model a fine-tuning profile starts from: the active one."""
    if not config.start_from_active:
        return None
    return artifacts.model_path(_active(model_dir), model_dir)


def _active(model_dir: Path) -> str:
    try:
        return artifacts.active_version(model_dir)
    except (FileNotFoundError, ValueError) as error:
        raise CommandError(f"This needs the active model, and there is none: {error}") from error
