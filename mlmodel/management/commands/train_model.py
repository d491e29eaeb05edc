"""`python manage.py train_model`: train the network, publish it as a new version, activate it."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mlmodel import artifacts
from mlmodel.data import load_fashion_mnist
from mlmodel.training import TrainingConfig, train


class Command(BaseCommand):
    help = "Train the Fashion-MNIST classifier, save it as a new model version and (by default) activate it."

    def add_arguments(self, parser: CommandParser) -> None:
        defaults = TrainingConfig()
        parser.add_argument("--epochs", type=int, default=defaults.epochs, help="default: %(default)s")
        parser.add_argument("--subset", type=int, help="train on this many random images (default: all)")
        parser.add_argument("--seed", type=int, default=defaults.seed, help="default: %(default)s")
        parser.add_argument(
            "--batch-size", type=int, default=defaults.batch_size, help="default: %(default)s"
        )
        parser.add_argument(
            "--data-dir",
            type=Path,
            help="directory of the four Fashion-MNIST .gz files (default: settings.FASHION_MNIST_DIR, "
            "else $FASHION_MNIST_DIR, else Keras's dataset cache)",
        )
        parser.add_argument("--model-dir", type=Path, help="where versions go (default: settings.MODEL_DIR)")
        parser.add_argument("--no-activate", action="store_true", help="publish without making it active")

    def handle(self, *args, **options) -> None:
        for name in ("epochs", "batch_size", "subset"):
            if options[name] is not None and options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1")
        data_dir = options["data_dir"] or getattr(settings, "FASHION_MNIST_DIR", None)
        model_dir = Path(options["model_dir"] or getattr(settings, "MODEL_DIR", artifacts.DEFAULT_MODEL_DIR))
        config = TrainingConfig(
            epochs=options["epochs"],
            batch_size=options["batch_size"],
            subset=options["subset"],
            seed=options["seed"],
        )

        try:
            dataset = load_fashion_mnist(data_dir)
        except (FileNotFoundError, ValueError) as error:
            raise CommandError(f"Cannot load Fashion-MNIST: {error}") from error

        result = train(config, dataset, verbose=1)
        activate = not options["no_activate"]
        version = artifacts.publish(result, dataset.fingerprint(), model_dir, activate=activate)

        self.stdout.write(
            "\n".join(
                [
                    self.style.SUCCESS(f"Trained model version {version}"),
                    f"  test accuracy  {result.test_accuracy:.4f} (loss {result.test_loss:.4f})",
                    f"  parameters     {result.model.count_params():,}",
                    f"  wall time      {result.wall_time_s:.1f} s",
                    f"  written to     {model_dir / version}",
                    f"  active         {'yes' if activate else 'no (run without --no-activate to serve it)'}",
                ]
            )
        )
