"""Documents a secretariat signs and sends, in the official form (thể thức văn bản) its rules name.

`form` reads who issues and signs them from the rules (`documents:`) and holds each form's measurements;
`official` lays a DOCX out in that form (A4, Times New Roman, the heading, number, place and date, the
title and its summary line, "Nơi nhận" and the signature, page numbers from page 2); `widths` fits table
columns to their content and says when a table needs a landscape page. Nothing here is imported at the
bot's start: python-docx loads when the first document is made.
"""
