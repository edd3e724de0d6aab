"""The texter-webhooks Pulumi program and its components."""
