"""What openpyxl (the library most offices' scripts use) sees in a workbook, as JSON:
per sheet its filter, frozen cell, print setup, validation lists and each column's cell
types, and the text of its first column's cells. Used by tests/test_sample.rs."""

import json
import sys

import openpyxl


def facts(sheet):
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]] if rows else []
    types = {}
    for row in rows[1:]:
        for name, cell in zip(header, row):
            if name is not None and cell.value is not None:
                types.setdefault(str(name), set()).add(type(cell.value).__name__)
    setup = sheet.page_setup
    return {
        "filter": sheet.auto_filter.ref,
        "frozen": sheet.freeze_panes,
        "orientation": setup.orientation,
        "paper": setup.paperSize,
        "fit_to_width": setup.fitToWidth,
        "fit_to_height": setup.fitToHeight,
        "fit_to_page": sheet.sheet_properties.pageSetUpPr.fitToPage
        if sheet.sheet_properties.pageSetUpPr
        else None,
        "title_rows": sheet.print_title_rows,
        "validations": [
            {"type": v.type, "formula": v.formula1, "cells": str(v.sqref)}
            for v in sheet.data_validations.dataValidation
        ],
        "header": [str(h) if h is not None else None for h in header],
        "types": {k: sorted(v) for k, v in types.items()},
        "rows": len(rows),
        "text": [str(c.value) for row in rows for c in row if c.value is not None],
    }


workbook = openpyxl.load_workbook(sys.argv[1])
print(
    json.dumps(
        {"sheets": workbook.sheetnames, "facts": {s.title: facts(s) for s in workbook}},
        ensure_ascii=False,
    )
)
