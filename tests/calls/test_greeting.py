"""Each region's numbers, written any way Twilio may send them, reach that region's greeting."""

from __future__ import annotations

import pytest

from tests.unit.test_regions import PAY_LINES, written_three_ways

REGION_NAMES = {
    "ncal": "Northern California",
    "scal": "Southern California",
    "co": "Colorado",
    "ga": "Georgia",
    "hi": "Hawaii",
    "mas": "Maryland, Virginia, and Washington D.C.",
    "nw": "Oregon and Southwest Washington",
    "wa": "Washington",
}


@pytest.mark.parametrize("key", sorted(PAY_LINES))
def test_each_regions_numbers_in_three_formats_reach_its_greeting(twilio, key):
    for dialed in written_three_ways(PAY_LINES[key]):
        call = twilio.call(to=dialed, from_="+14155550123")
        # One period ends the sentence, even after "Washington D.C."
        assert call.heard[0] == (
            f"Welcome to the Kaiser Permanente payment line for {REGION_NAMES[key]}."
        ).replace("..", ".")
        # The MRN is asked first; then Spanish is offered in Spanish, relay mode in
        # English: nothing about anyone is said before identification.
        assert call.heard[1:4] == [
            "Enter your medical record number, then press pound.",
            "Para español, oprima 8.",
            "For relay, press 7.",
        ]
        assert call.waiting is not None and call.waiting.finish_on_key == "#"
        call.hang_up()


def test_a_number_no_region_lists_gets_the_national_greeting(twilio):
    call = twilio.call(to="+18005550199", from_="+14155550123")
    assert call.heard[0] == "Welcome to the Kaiser Permanente member payment line."
    assert call.heard[1] == "Enter your medical record number, then press pound."
