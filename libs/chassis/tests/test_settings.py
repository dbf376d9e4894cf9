import pytest

from forbedring_aggregation.settings import AggregationSettings
from forbedring_survey.settings import SurveySettings


def test_each_service_reads_its_own_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SURVEY_KAFKA_BOOTSTRAP_SERVERS", "survey-kafka:9092")
    monkeypatch.setenv("AGGREGATION_KAFKA_BOOTSTRAP_SERVERS", "aggregation-kafka:9092")
    assert SurveySettings().kafka_bootstrap_servers == "survey-kafka:9092"
    assert AggregationSettings().kafka_bootstrap_servers == "aggregation-kafka:9092"


def test_a_plain_postgres_url_is_used_through_asyncpg() -> None:
    settings = SurveySettings(database_url="postgresql://u:p@db:5432/survey")
    assert settings.database_url == "postgresql+asyncpg://u:p@db:5432/survey"


def test_consumer_group_and_topics_follow_the_service() -> None:
    assert AggregationSettings().group_id == "forbedring-aggregation"
    settings = AggregationSettings(kafka_topic_prefix="t1.")
    assert settings.group_id == "t1.forbedring-aggregation"
    assert settings.topic("forbedring.x.y.v1") == "t1.forbedring.x.y.v1"
    assert AggregationSettings(consumer_group="g").group_id == "g"
