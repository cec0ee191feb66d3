# This file is part of the eldercare platform. See LICENSE.
"Table-driven tests of the GB/T 42195-2022 scoring (no database)."
import unittest

from trytond.modules.elder_assess import scoring

from .tools import answers_for


class ScoringTestCase(unittest.TestCase):
    "GB/T 42195-2022 items, levels and adjustments"

    def test_items(self):
        "26 items, 4 dimensions with maxima 32/15/28/15, total 90"
        self.assertEqual(len(scoring.ITEMS), 26)
        for code, _, _, maximum in scoring.DIMENSIONS:
            self.assertEqual(sum(i['max'] for i in scoring.ITEMS
                    if i['dimension'] == code), maximum, code)
        maxima = {i['zh']: i['max'] for i in scoring.ITEMS}
        self.assertEqual(maxima['上下楼梯'], 3)
        self.assertEqual(maxima['攻击行为'], 1)
        self.assertEqual(maxima['抑郁症状'], 1)
        self.assertEqual(maxima['意识水平'], 2)
        self.assertEqual(maxima['视力'], 2)
        self.assertEqual(maxima['使用交通工具外出'], 3)
        for item in scoring.ITEMS:
            scores = [o[0] for o in item['options']]
            self.assertEqual(sorted(scores), list(range(item['max'] + 1)))
            self.assertTrue(all(o[2] for o in item['options']))

    def test_level_boundaries(self):
        "Every boundary of the level table"
        table = [
            (90, 0), (89, 1), (66, 1), (65, 2), (46, 2), (45, 3), (30, 3),
            (29, 4), (0, 4),
            ]
        for total, level in table:
            with self.subTest(total=total):
                result = scoring.score(answers_for(total))
                self.assertEqual(result['total'], total)
                self.assertEqual(result['preliminary'], level)
                self.assertEqual(result['final'], level)
                self.assertEqual(result['adjustments'], [])

    def test_dimensions(self):
        "Dimension sums of a full score and of a mixed one"
        result = scoring.score(answers_for(90))
        self.assertEqual(result['dimensions'],
            {'b1': 32, 'b2': 15, 'b3': 28, 'b4': 15})
        result = scoring.score(answers_for(40))
        self.assertEqual(result['dimensions'],
            {'b1': 32, 'b2': 8, 'b3': 0, 'b4': 0})

    def test_adjustments(self):
        "coma, dementia, other mental disorder, care-risk events, capped"
        table = [
            # total, coma, diagnoses, risk events, adjustments, final
            (90, True, [], 0, ['coma'], 4),
            (70, True, ['F00.1'], 5, ['coma'], 4),
            (90, False, ['F00'], 0, ['dementia'], 1),
            (90, False, ['F03'], 0, ['dementia'], 1),
            (70, False, ['F01.1'], 0, ['dementia'], 2),
            (70, False, ['F04'], 0, ['mental'], 2),
            (70, False, ['F32.9'], 0, ['mental'], 2),
            (70, False, ['F99'], 0, ['mental'], 2),
            (70, False, ['G30.0', 'I63.9'], 0, [], 1),
            # both branches of the mental-health clause: one step
            (70, False, ['F02.0', 'F20.0'], 0, ['dementia'], 2),
            (70, False, [], 1, [], 1),
            (70, False, [], 2, ['risk_events'], 2),
            (50, False, ['F00'], 3, ['dementia', 'risk_events'], 4),
            (40, False, ['F00'], 2, ['dementia', 'risk_events'], 4),
            (20, False, ['F00'], 2, ['dementia', 'risk_events'], 4),
            (29, False, [], 2, ['risk_events'], 4),
            ]
        for total, coma, diagnoses, events, adjustments, final in table:
            with self.subTest(total=total, coma=coma, diagnoses=diagnoses,
                    events=events):
                result = scoring.score(
                    answers_for(total), coma=coma, diagnoses=diagnoses,
                    risk_events=events)
                self.assertEqual(result['adjustments'], adjustments)
                self.assertEqual(result['final'], final)
                self.assertLessEqual(result['final'], scoring.WORST)

    def test_invalid_options(self):
        "Values that are not options of their item are refused"
        for field, value in [
                ('b1_eating', '5'), ('b1_eating', '-1'),
                ('b2_stairs', '4'), ('b3_aggression', '2'),
                ('b3_consciousness', '3'), ('b4_vision', 'x'),
                ('b4_hearing', '1.5'), ('b1_eating', None)]:
            with self.subTest(field=field, value=value):
                with self.assertRaises(scoring.InvalidOption):
                    scoring.check_answer(field, value)
        answers = answers_for(90)
        answers['b2_stairs'] = '4'
        with self.assertRaises(scoring.InvalidOption):
            scoring.score(answers)

    def test_missing(self):
        "Scoring needs every item"
        answers = answers_for(90)
        del answers['b4_social']
        with self.assertRaises(KeyError):
            scoring.score(answers)

    def test_icd10(self):
        for code, group in [('F00', 'dementia'), ('F03', 'dementia'),
                ('F04', 'mental'), ('F99', 'mental'), ('G30', None),
                ('f01.1', 'dementia')]:
            with self.subTest(code=code):
                self.assertEqual(
                    scoring.icd10_group(scoring.normalize_icd10(code)), group)
        for code in ['F1', 'FF00', '', '00F', 'F00.123']:
            with self.assertRaises(ValueError):
                scoring.normalize_icd10(code)
