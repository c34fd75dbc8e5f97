"""Proposals: what the news says of a milestone's dates, until a person accepts or rejects it.

`decide` is pure (a milestone and the dates an item states → a new window or none); `record` stores
what a poll found and publishes `milestone.slip_reported`; `reads` lists proposals with their
evidence; `decisions` accepts (writing the window back: `writeback` for milestones.yaml, the API's
own edit for API milestones) or rejects them.
"""
