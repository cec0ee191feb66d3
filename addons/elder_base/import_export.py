# This file is part of the eldercare platform. See LICENSE.
"Excel import of older people, providers and regions; Excel export of lists."
from trytond.model import ModelView, fields
from trytond.report import Report
from trytond.wizard import Button, StateTransition, StateView, Wizard


class ImportStart(ModelView):
    "Import from Excel"
    __name__ = 'elder.import.start'
    kind = fields.Selection([
            ('elder', "Older People"),
            ('provider', "Providers"),
            ('region', "Regions"),
            ], "Kind", required=True)
    file = fields.Binary("File", required=True)


class ImportResult(ModelView):
    "Import result"
    __name__ = 'elder.import.result'
    report = fields.Text("Report", readonly=True)


class Import(Wizard):
    "Import from Excel"
    __name__ = 'elder.import'
    start = StateView('elder.import.start',
        'elder_base.import_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Import", 'import_', 'tryton-ok', default=True),
            ])
    import_ = StateTransition()
    result = StateView('elder.import.result',
        'elder_base.import_result_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def transition_import_(self):
        return 'result'


class ExcelExport(Report):
    __name__ = 'elder.export.xlsx'


class ImportTemplate(Report):
    __name__ = 'elder.import.template'
