"""The staff console: the billing team's and QA's tools, apart from the webhooks.

Staff accounts (`ivr staff`) and the flow map generated from the steps' code
(`ivr console flow-map`). The voice app never imports this package.
"""
