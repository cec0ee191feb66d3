"""Write the zh_CN.po template of a module from a database where it is active.

Usage: python tools/export_po.py DATABASE MODULE [MODULE ...]

Keeps the msgstr already present in addons/<module>/locale/zh_CN.po, adds the
new msgids with empty msgstr, so a translator fills in only what is new."""
import os
import sys

import polib

from trytond.pool import Pool
from trytond.transaction import Transaction


def main(database, modules):
    Pool(database).init()
    with Transaction().start(database, 0) as transaction:
        pool = Pool()
        TranslationSet = pool.get('ir.translation.set', type='wizard')
        Translation = pool.get('ir.translation')
        session_id, _, _ = TranslationSet.create()
        wizard = TranslationSet(session_id)
        wizard.set_report()
        wizard.set_view()
        for module in modules:
            # The English source entries list every msgid of the module.
            data = Translation.translation_export('en', module)
            if data is None:
                print(f'{module}: nothing to translate')
                continue
            path = os.path.join('addons', module, 'locale', 'zh_CN.po')
            fresh = polib.pofile(data.decode('utf-8'))
            for entry in fresh:
                entry.msgstr = ''
            if os.path.exists(path):
                old = {(e.msgctxt, e.msgid): e.msgstr
                    for e in polib.pofile(path) if e.msgstr}
                for entry in fresh:
                    entry.msgstr = old.get(
                        (entry.msgctxt, entry.msgid), entry.msgstr)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fresh.save(path)
            missing = sum(1 for e in fresh if not e.msgstr)
            print(f'{path}: {len(fresh)} entries, {missing} untranslated')
        transaction.rollback()


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2:])
