"""Evidence-log steps are shown with readable names; the stored code stays stable."""

from emissions.models import DataRequestEvent


def test_every_step_of_a_request_has_a_readable_name():
    for kind in ("sent", "reminded", "opened", "claimed", "answered", "declined", "cancelled"):
        label = DataRequestEvent(kind=kind).kind_label
        assert label and label != kind
    assert DataRequestEvent(kind="reminded").kind_label == "Reminder sent"


def test_an_unknown_step_falls_back_to_its_code_in_words():
    assert DataRequestEvent(kind="escalated_to_manager").kind_label == "Escalated to manager"
