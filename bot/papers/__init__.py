"""The papers as files: PDFs of the handover records, the consequence-test sheet and the
classification decision; the public list of exempted information (HTML, CSV, JSON); the
evidence pack (ZIP). Rendering only: the data comes from ``sop`` (papers, publish,
evidence), the words from ``bot.texts.papers``."""
