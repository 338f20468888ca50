"""The monthly report: its data, HTML page, Excel workbook and charts."""
