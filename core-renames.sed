# billing_core "core" branch: import paths that moved. Apply with: sed -i -f core-renames.sed FILE...
# then `ruff check --fix --select I` to re-sort the changed import blocks.
#
# The feed import service left the feed's file formats (billing_core.adapters.feed, now a
# package that still exports MemberRecord, load_feed_file, parse_feed_document, ...):
# a one-line import naming import_feed or ImportReport comes from the service, which
# also re-exports MemberRecord, load_feed_file and parse_feed_document.
/^[[:space:]]*from billing_core\.adapters\.feed import .*\b\(import_feed\|ImportReport\)\b/s/billing_core\.adapters\.feed import/billing_core.services.feed_import import/
