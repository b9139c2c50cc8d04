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
        assert call.heard[0] == (
            f"Thank you for calling the Kaiser Permanente member payment line for "
            f"{REGION_NAMES[key]}."
        )
        # Nothing about anyone is said before identification: the next thing is the MRN.
        assert call.heard[1] == "Please enter your medical record number, then press pound."
        assert call.waiting is not None and call.waiting.finish_on_key == "#"
        call.hang_up()


def test_a_number_no_region_lists_gets_the_national_greeting(twilio):
    call = twilio.call(to="+18005550199", from_="+14155550123")
    assert call.heard[0] == "Thank you for calling the Kaiser Permanente member payment line."
    assert call.heard[1] == "Please enter your medical record number, then press pound."
