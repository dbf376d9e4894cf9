from sqlmodel import Field, SQLModel


class UnitCount(SQLModel, table=True):
    """Respondents counted so far for one unit in one period."""

    __tablename__ = "unit_counts"

    period_id: str = Field(primary_key=True)
    unit_id: str = Field(primary_key=True)
    respondents: int
