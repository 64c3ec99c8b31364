"""The export's fast reading of stored E.164 numbers gives exactly what phonenumbers'
own parser gives, for every region's example numbers (mobile, fixed line, toll free)."""
import phonenumbers
import pytest

from pymes.clients.services import _from_e164, national


def example_numbers():
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE,
                     phonenumbers.PhoneNumberType.TOLL_FREE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                yield region, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def test_fast_reading_equals_the_parser_for_every_region():
    checked = 0
    for region, e164 in example_numbers():
        assert _from_e164(e164) == phonenumbers.parse(e164, None), (region, e164)
        for country in (region, "CL"):
            slow = phonenumbers.parse(e164, None)
            fmt = (phonenumbers.PhoneNumberFormat.NATIONAL if phonenumbers.region_code_for_number(slow) == country
                   else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
            assert national(e164, country) == phonenumbers.format_number(slow, fmt), (region, e164)
        checked += 1
    assert checked > 500


@pytest.mark.parametrize("e164, country, shown", [
    ("+56987654321", "CL", "9 8765 4321"),
    ("+390612345678", "IT", "06 1234 5678"),      # Italian leading zero kept
    ("+56987654321", "AR", "+56 9 8765 4321"),    # another country's number: international
])
def test_numbers_people_recognise(e164, country, shown):
    assert national(e164, country) == shown
