"""Rules of billing whatever the channel or the database: money, payments, premiums, regions."""
