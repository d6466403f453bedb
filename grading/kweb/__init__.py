"""kweb-lab's host side: grading, reports, class batches and the guest.

One data model (model.py), one parser per file format (stagefiles.py for
the kit's stage files, protocol.py for the guest's result stream, kwblank's
JSON for answers and blank rules, classbatch.py for a quiz form's CSV).
Run it through grading/kw (``grading/kw grade 1 solutions 6.12``).
"""
