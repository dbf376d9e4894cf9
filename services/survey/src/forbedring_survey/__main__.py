"""Run the survey service: `python -m forbedring_survey`."""

from forbedring_chassis.serve import serve
from forbedring_survey.settings import SurveySettings

serve("forbedring_survey.app:create_app", settings=SurveySettings())
