# billing_core "core" branch: import paths that moved. Apply with: sed -i -f core-renames.sed FILE...
# then `ruff check --fix --select I` to re-sort the changed import blocks.
#
# The feed import service left the feed's file formats (billing_core.adapters.feed, now a
# package that still exports MemberRecord, load_feed_file, parse_feed_document, ...):
# a one-line import naming import_feed or ImportReport comes from the service, which
# also re-exports MemberRecord, load_feed_file and parse_feed_document.
/^[[:space:]]*from billing_core\.adapters\.feed import .*\b\(import_feed\|ImportReport\)\b/s/billing_core\.adapters\.feed import/billing_core.services.feed_import import/
#
# regions.yaml is read and validated by an adapter; the Region values stay in the domain:
# load_regions and parse_regions moved from billing_core.domain.regions to
# billing_core.adapters.regions_file (RegionConfigError, Region, RegionCatalog, ... did not).
s/^\([[:space:]]*\)from billing_core\.domain\.regions import load_regions$/\1from billing_core.adapters.regions_file import load_regions/
s/^\([[:space:]]*\)from billing_core\.domain\.regions import \(.*\), load_regions$/\1from billing_core.adapters.regions_file import load_regions\n\1from billing_core.domain.regions import \2/
s/^\([[:space:]]*\)from billing_core\.domain\.regions import RegionConfigError, load_regions, parse_regions$/\1from billing_core.adapters.regions_file import load_regions, parse_regions\n\1from billing_core.domain.regions import RegionConfigError/
s/^\([[:space:]]*\)from billing_core\.domain\.regions import load_regions, \(.*\)$/\1from billing_core.adapters.regions_file import load_regions\n\1from billing_core.domain.regions import \2/
#
# Money is parsed and formatted in billing_core.domain.money only: parse_money,
# format_money and MAX_MONEY_CENTS left the feed; format_amount left the receipts.
/^[[:space:]]*from billing_core\.adapters\.feed import \(parse_money\|format_money\|MAX_MONEY_CENTS\)\(, \(parse_money\|format_money\|MAX_MONEY_CENTS\)\)*$/s/billing_core\.adapters\.feed import/billing_core.domain.money import/
s/^\([[:space:]]*\)from billing_core\.services\.receipts import format_amount$/\1from billing_core.domain.money import format_amount/
