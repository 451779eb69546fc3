from django.core.management.base import BaseCommand

from statements.content import load_all


class Command(BaseCommand):
    help = "Load or refresh the statements from statements/content/ (safe to run repeatedly)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Overwrite texts edited in the admin with the repository's version.",
        )

    def handle(self, *args, force: bool = False, **options):
        report = load_all(force=force)
        for label, items in (
            ("created", report.created),
            ("updated", report.updated),
            ("unchanged", report.unchanged),
            ("kept (edited in the admin; --force overwrites)", report.kept_edits),
        ):
            if items:
                self.stdout.write(f"{label}: {', '.join(items)}")
