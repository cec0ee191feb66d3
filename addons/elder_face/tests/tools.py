# This file is part of the eldercare platform. See LICENSE.
"Helpers of the elder_face tests."
import datetime as dt
import io
import os

import numpy as np

from trytond.modules.elder_base.tests.tools import citizen_id, create_elder
from trytond.pool import Pool

DATA = os.path.join(os.path.dirname(__file__), 'data')
XINCHENG = '150102'


def face(person, number):
    "The bytes of test image <person><number>.png"
    with open(os.path.join(DATA, person, '%s%s.png' % (person, number)),
            'rb') as file:
        return file.read()


def png(array):
    from PIL import Image
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(array, dtype=np.uint8)).save(buffer, 'PNG')
    return buffer.getvalue()


def elder(name, serial):
    return create_elder(name, citizen_id(XINCHENG, '19400315', serial),
        XINCHENG)


def consent(party, purpose='biometrics'):
    Consent = Pool().get('security.consent')
    record, = Consent.create([{
                'party': party.id,
                'purpose': purpose,
                'version': '2026-01',
                'given_at': dt.datetime.now() - dt.timedelta(minutes=5),
                'given_by': 'subject',
                'channel': 'counter',
                }])
    return record


def enrolment(elder=None, practitioner=None):
    Enrolment = Pool().get('face.enrolment')
    record, = Enrolment.create([{
                'subject': 'elder' if elder else 'practitioner',
                'elder': elder.id if elder else None,
                'practitioner': practitioner.id if practitioner else None,
                }])
    return record


def enrolled_elder(name, serial, person, numbers=(1, 2)):
    "An older person with consent, enrolled with the images of person"
    Enrolment = Pool().get('face.enrolment')
    record = elder(name, serial)
    consent(record.party)
    enrol = enrolment(elder=record)
    Enrolment.register_images(enrol, [face(person, n) for n in numbers])
    return record, Enrolment(enrol.id)


def tiny_onnx_model(path):
    """Write a small ONNX model (mean of the input → sigmoid) to path: a
    stand-in for an operator's anti-spoofing model, to test the provider's
    loading, hash pinning and scoring mechanics (it detects nothing)."""
    import onnx
    from onnx import TensorProto, helper
    x = helper.make_tensor_value_info('input', TensorProto.FLOAT,
        [1, 3, 64, 64])
    y = helper.make_tensor_value_info('score', TensorProto.FLOAT, [1, 1])
    nodes = [
        helper.make_node('ReduceMean', ['input'], ['mean'], keepdims=0),
        helper.make_node('Reshape', ['mean', 'shape'], ['mean2']),
        helper.make_node('Sigmoid', ['mean2'], ['score']),
        ]
    shape = helper.make_tensor('shape', TensorProto.INT64, [2], [1, 1])
    graph = helper.make_graph(nodes, 'tiny', [x], [y], initializer=[shape])
    model = helper.make_model(graph, opset_imports=[
            helper.make_opsetid('', 13)])
    model.ir_version = 8
    onnx.save(model, path)
    return path
