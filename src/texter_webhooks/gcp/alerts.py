"""Opt-in alert policies: someone hears of events piling up before they expire.

With no consumer, Pub/Sub keeps the events for the retention period and then drops them
without a word. Three conditions catch that and its neighbours: the oldest undelivered
event of the events subscription grows old, dead letters appear, the receiver answers 5xx
(Texter then retries, and eventually gives up).

The two subscription conditions each watch one subscription, a single time series; the
5xx one adds up the service's series (one per revision and response code) first.
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

Condition = gcp.monitoring.AlertPolicyConditionArgs
Threshold = gcp.monitoring.AlertPolicyConditionConditionThresholdArgs
Aggregation = gcp.monitoring.AlertPolicyConditionConditionThresholdAggregationArgs


def policies(
    name: str,
    *,
    project: str,
    channels: list[str],
    events_subscription: pulumi.Input[str],
    dead_letter_subscription: pulumi.Input[str],
    service: pulumi.Input[str],
    oldest_unacked_seconds: int,
    opts: pulumi.ResourceOptions,
) -> list[gcp.monitoring.AlertPolicy]:
    """The three policies, notifying `channels`."""

    def policy(suffix: str, title: str, condition: Condition) -> gcp.monitoring.AlertPolicy:
        return gcp.monitoring.AlertPolicy(
            f"{name}-alert-{suffix}",
            project=project,
            display_name=title,
            combiner="OR",
            conditions=[condition],
            notification_channels=channels,
            opts=opts,
        )

    def threshold(
        title: str,
        filter_: pulumi.Input[str],
        value: float,
        aligner: str,
        duration: str,
        *,
        summed_by: str | None = None,
    ) -> Condition:
        """`summed_by` adds up every series sharing that label before the comparison."""
        aggregation = Aggregation(alignment_period="300s", per_series_aligner=aligner)
        if summed_by is not None:
            aggregation = Aggregation(
                alignment_period="300s",
                per_series_aligner=aligner,
                cross_series_reducer="REDUCE_SUM",
                group_by_fields=[summed_by],
            )
        return Condition(
            display_name=title,
            condition_threshold=Threshold(
                filter=filter_,
                comparison="COMPARISON_GT",
                threshold_value=value,
                duration=duration,
                aggregations=[aggregation],
            ),
        )

    def on_subscription(metric: str, subscription: pulumi.Input[str]) -> pulumi.Output[str]:
        return pulumi.Output.concat(
            'resource.type = "pubsub_subscription" AND resource.labels.subscription_id = "',
            subscription,
            f'" AND metric.type = "pubsub.googleapis.com/subscription/{metric}"',
        )

    return [
        policy(
            "backlog-age",
            "Texter events are waiting for a consumer",
            threshold(
                f"oldest undelivered event older than {oldest_unacked_seconds} s",
                on_subscription("oldest_unacked_message_age", events_subscription),
                oldest_unacked_seconds,
                "ALIGN_MAX",
                "300s",
            ),
        ),
        policy(
            "dead-letters",
            "Texter events moved to the dead-letter topic",
            threshold(
                "dead letters waiting",
                on_subscription("num_undelivered_messages", dead_letter_subscription),
                0,
                "ALIGN_MAX",
                "0s",
            ),
        ),
        policy(
            "receiver-5xx",
            "The Texter webhook receiver answers 5xx",
            threshold(
                "5xx answers in 5 minutes",
                pulumi.Output.concat(
                    'resource.type = "cloud_run_revision" AND resource.labels.service_name = "',
                    service,
                    '" AND metric.type = "run.googleapis.com/request_count"'
                    ' AND metric.labels.response_code_class = "5xx"',
                ),
                5,
                "ALIGN_SUM",
                "0s",
                # request_count is one series per revision and response code: summed per
                # service, 5xx spread over several of them still count together.
                summed_by="resource.label.service_name",
            ),
        ),
    ]
