"""Run the survey service: `python -m forbedring_survey`."""

from forbedring_chassis.serve import serve

serve("forbedring_survey.app:create_app", service="survey")
