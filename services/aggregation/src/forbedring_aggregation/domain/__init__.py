"""Pure domain logic of the aggregation service: no I/O, no framework.

`suppression` decides which units of one table get results (docs/suppression.md);
`audit` checks any publication pattern independently of how it was computed.
"""

from forbedring_aggregation.domain.audit import (
    AuditReport,
    audit_publication,
    audit_releases,
)
from forbedring_aggregation.domain.suppression import (
    DEFAULT_K,
    SENSITIVE_K,
    InvalidUnitTreeError,
    SuppressionAuditError,
    SuppressionReason,
    SuppressionResult,
    UnitNode,
    UnitTree,
    build_unit_tree,
    compute_sensitive_suppression,
    compute_suppression,
    item_statistic_publishable,
)

__all__ = [
    "DEFAULT_K",
    "SENSITIVE_K",
    "AuditReport",
    "InvalidUnitTreeError",
    "SuppressionAuditError",
    "SuppressionReason",
    "SuppressionResult",
    "UnitNode",
    "UnitTree",
    "audit_publication",
    "audit_releases",
    "build_unit_tree",
    "compute_sensitive_suppression",
    "compute_suppression",
    "item_statistic_publishable",
]
