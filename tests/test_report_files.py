"""Report files laid out for people: every report as PDF and XLSX from a month of chats, 56 agents, long names.

The PDFs are read back with pypdf (text positions and drawn cells): nothing overlaps, no value leaves its cell,
every page is numbered and headed, no type is below 8 pt. The XLSX: bold frozen header, filter, fitted widths,
durations and ratios as numbers with duration and percent formats. First pages are saved as PNGs in
test-artifacts/reports/ (with Debian's poppler-utils) for a person to look at.
"""

import csv
import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pdf_layout import cell_of, outside_its_cell, overlapping, read
from report_dataset import COMPANY, FIRST_DAY, LAST_DAY, LONG_NAME, ZONE, build_month

from agentchat.reports import catalogue
from agentchat.reports.columns import column

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "reports"
PDFTOPPM = "/usr/bin/pdftoppm"
PERIOD = f"{FIRST_DAY:%d %b %Y} to {LAST_DAY:%d %b %Y}"


def download(api, manager, report_id: str, file_format: str) -> bytes:
    response = api.get("GetReport", manager, {"ReportID": report_id, "From": FIRST_DAY.isoformat(),
                                              "To": LAST_DAY.isoformat(), "FileFormat": file_format})
    assert response.status_code == 200, response.text
    return response.content


@pytest.fixture
def month(server):
    return server.with_db(build_month)


class TestPdf:
    def test_every_report_is_laid_out_for_people(self, server, api, manager, month):
        for report in catalogue.REPORTS.values():
            pages = read(download(api, manager, report.report_id, "PDF"))
            headings = [column(key).heading for key in report.columns]
            for number, page in enumerate(pages, 1):
                where = f"{report.report_id} page {number}"
                assert min(run.size for run in page.runs) >= 8 - 1e-6, where
                assert overlapping(page.runs) == [], where
                assert outside_its_cell(page) == [], where
                assert f"Page {number} of {len(pages)}" in page.texts(), where
                assert report.name in " ".join(page.texts()), where  # title, then the running header
                # The table's header row, in human words, on every page.
                header = " ".join(run.text for run in page.runs if run.bold and round(run.size) == 8)
                assert column(report.repeat[0]).heading in header, where
                assert "Seconds" not in header, where
            first = " ".join(pages[0].texts())
            assert COMPANY.replace("&", "&") in first and PERIOD in first and ZONE in first, report.report_id
            everything = " ".join(" ".join(page.texts()) for page in pages)
            for heading in headings:  # wrapped, but every word of every label is there
                assert all(word in everything for word in heading.split()), heading

    def test_headers_are_wrapped_into_their_cells_and_values_sit_inside_theirs(self, server, api, manager, month):
        pages = read(download(api, manager, "AgentPerformance", "PDF"))
        page = pages[0]
        assert page.width > page.height  # landscape: the table is wide
        labels = [run for run in page.runs if run.bold and round(run.size) == 8 and cell_of(page, run)]
        assert len(labels) > 20
        assert overlapping(labels) == []
        # "Avg first response (h:mm:ss)" is wrapped over lines of one cell.
        [cell] = {cell_of(page, run) for run in labels if run.text.startswith("Avg first")}
        inside = [run.text for run in labels if cell_of(page, run) == cell]
        assert " ".join(inside) == "Avg first response (h:mm:ss)"
        values = [run for run in page.runs if not run.bold and cell_of(page, run)]
        assert any(re.fullmatch(r"\d+:\d\d:\d\d", run.text) for run in values)  # durations h:mm:ss
        texts = " ".join(" ".join(p.texts()) for p in pages)
        assert re.search(r"\d+\.\d %", texts)  # occupancy as a percentage
        assert "part 1 of" in texts  # too wide for one page: split by column groups, not shrunk
        assert any(run.text.startswith("Nomvulamakhosazana") for p in pages for run in p.runs)

    def test_a_narrow_report_is_portrait(self, server, api, manager, month):
        [page] = read(download(api, manager, "TagUsage", "PDF"))
        assert page.height > page.width
        assert "Refund requested after delivery" in page.texts()

    def test_first_pages_as_png(self, server, api, manager, month):
        if not Path(PDFTOPPM).exists():
            assert not os.environ.get("CI"), f"{PDFTOPPM} is missing: .ci/run installs poppler-utils"
            pytest.skip(f"{PDFTOPPM} is missing (Debian's poppler-utils): no PNG of the first pages")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        backend = server.settings.database_url.split(":")[0].split("+")[0]
        for report_id in catalogue.REPORTS:
            pdf = ARTIFACTS / f"{report_id}-{backend}.pdf"
            pdf.write_bytes(download(api, manager, report_id, "PDF"))
            stem = ARTIFACTS / f"{report_id}-{backend}"
            subprocess.run([PDFTOPPM, "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(stem)],
                           check=True, timeout=60)
            assert Path(f"{stem}.png").read_bytes().startswith(b"\x89PNG")
        assert shutil.which(PDFTOPPM)


class TestXlsx:
    def test_every_report_has_a_header_people_can_filter_and_sort_by(self, server, api, manager, month):
        for report in catalogue.REPORTS.values():
            book = load_workbook(io.BytesIO(download(api, manager, report.report_id, "XLSX")))
            assert book.sheetnames[:2] == ["Summary", report.section], report.report_id
            assert ("Per day" in book.sheetnames) == bool(report.per_day)
            sheet = book[report.section]
            header = [cell for cell in sheet[1]]
            assert all(cell.font.b for cell in header), report.report_id
            assert sheet.freeze_panes == "A2"
            assert sheet.auto_filter.ref == f"A1:{header[-1].column_letter}{sheet.max_row}"
            assert sorted(cell.value for cell in header) == sorted(column(k).heading for k in report.columns)
            formats = {"duration": "[h]:mm:ss", "ratio": "0.0%", "moment": "yyyy-mm-dd hh:mm"}
            kinds = {column(key).heading: column(key).kind for key in report.columns}
            for values in sheet.iter_rows(min_row=2, max_row=40):
                for title, cell in zip((c.value for c in header), values, strict=True):
                    if cell.value is not None and kinds[title] in formats:
                        assert cell.number_format == formats[kinds[title]], (report.report_id, title)
            summary = [value for row in book["Summary"].iter_rows(values_only=True) for value in row if value]
            assert PERIOD in summary and ZONE in summary and COMPANY in summary

    def test_durations_and_ratios_are_numbers_with_their_formats(self, server, api, manager, month):
        rows = list(csv.DictReader(io.StringIO(download(api, manager, "AgentPerformance", "CSV").decode())))
        book = load_workbook(io.BytesIO(download(api, manager, "AgentPerformance", "XLSX")))
        sheet = book["Agents"]
        at = {cell.value: cell.column - 1 for cell in sheet[1]}
        by_agent = {row["AgentID"]: row for row in rows}
        for values in sheet.iter_rows(min_row=2):
            machine = by_agent[str(values[at["Agent ID"]].value)]
            wait = values[at["Avg wait (h:mm:ss)"]]
            if machine["AverageWaitSeconds"]:
                assert wait.number_format == "[h]:mm:ss"
                # Stored as a fraction of a day; openpyxl reads a duration format back as a timedelta.
                assert wait.value.total_seconds() == pytest.approx(float(machine["AverageWaitSeconds"]))
            occupancy = values[at["Occupancy (%)"]]
            assert occupancy.number_format == "0.0%"
            assert occupancy.value == pytest.approx(float(machine["Occupancy"]))
            assert values[at["Chats"]].value == int(machine["Chats"])
        name_width = sheet.column_dimensions[sheet.cell(1, at["Agent"] + 1).column_letter].width
        assert name_width >= len(LONG_NAME)  # fitted to the longest name
        wait_width = sheet.column_dimensions[sheet.cell(1, at["Avg wait (h:mm:ss)"] + 1).column_letter].width
        assert wait_width < name_width
        days = book["Per day"]
        assert days.max_row == 1 + (LAST_DAY - FIRST_DAY).days + 1
        assert days.cell(2, 1).number_format == "ddd yyyy-mm-dd"
        assert sum(row[1] for row in days.iter_rows(min_row=2, values_only=True)) == month.chats


class TestScheduledMail:
    def test_the_mail_shows_the_key_figures_carries_the_file_and_says_how_to_stop_it(self, server, api, manager,
                                                                                     mailbox, month):
        recipient = api.ok(api.post("CreateRecipient", manager, {"Name": "Lindiwe Boss",
                                                                 "EmailAddress": "lindiwe@example.com"}))
        schedule = api.ok(api.post("CreateScheduledReport", manager, {
            "RecipientID": recipient["RecipientID"], "ReportID": "AgentPerformance", "FileFormat": "PDF",
            "Period": "Month", "DeliveryMethod": "Email", "ScheduledDays": [1, 2, 3, 4, 5], "ScheduledTime": "07:30"}))
        api.ok(api.post("SendScheduledReportNow", manager, {"ScheduleID": schedule["ScheduleID"]}))
        [mail] = mailbox.wait_for("lindiwe@example.com")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "scheduled-mail.eml").write_bytes(mail.as_bytes())
        assert mail["Subject"] == f"Agent performance, {PERIOD}"
        plain = mail.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
        html = mail.get_body(preferencelist=("html",)).get_content()
        assert html.lstrip().startswith("<!DOCTYPE html>")
        board = api.ok(api.get("GetDashboard", manager, {"From": FIRST_DAY.isoformat(), "To": LAST_DAY.isoformat()}))
        wait = round(board["Metrics"]["AverageWaitSeconds"])
        wait_text = f"{wait // 3600}:{wait // 60 % 60:02d}:{wait % 60:02d}"
        figures = {"Chats": f"{month.chats:,}", "Missed": str(board["Totals"]["MissedChats"]),
                   "Avg wait (h:mm:ss)": wait_text, "Agents": "56"}
        for label, value in figures.items():
            assert re.search(rf"^{re.escape(label)} +{re.escape(value)}$", plain, re.M), (label, plain)
            assert re.search(rf">{re.escape(label)}</td><td[^>]*>{re.escape(value)}</td>", html), (label, html)
        for body in (plain, html):
            assert "To change or stop it" in body and "/#reports" in body
            assert f"scheduled report {schedule['ScheduleID']}" in body and "every weekday at 07:30" in body
        [attachment] = list(mail.iter_attachments())
        assert attachment.get_filename() == f"AgentPerformance-{FIRST_DAY}-{LAST_DAY}.pdf"
        assert attachment.get_content().startswith(b"%PDF")
