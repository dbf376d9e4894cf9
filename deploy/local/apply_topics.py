"""Make a Kafka cluster's topics match deploy/topics.yaml. See forbedring_chassis.topic_admin.

    uv run python deploy/local/apply_topics.py --bootstrap 127.0.0.1:59092 \
        --file deploy/topics.yaml [--wait 60] [--dry-run]
"""

import sys

from forbedring_chassis.topic_admin import main

if __name__ == "__main__":
    sys.exit(main())
