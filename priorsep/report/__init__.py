"""Listening reports: a static page per benchmark or separation run, with the mixture, references,
every method's estimates as audio players and spectrograms, scores and posterior uncertainty."""
from .benchmark_report import BenchmarkReport, MusdbReport
from .separation_report import separation_report
from .writer import MARKER, MethodOutput, ReportItem, check_report_folder, write_report

__all__ = ["MARKER", "BenchmarkReport", "MethodOutput", "MusdbReport", "ReportItem", "check_report_folder",
           "separation_report", "write_report"]
