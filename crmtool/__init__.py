"""crmtool: after-sales CRM analytics for car dealerships (4S stores)."""

__version__ = "0.1.0"
