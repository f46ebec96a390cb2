"""Company names that carry abbreviations with full stops: the stop of an abbreviation is not
the end of a sentence, and a legal form written in lower case after the name belongs to it
(issue 14, sixth blind round: 'San. ve Tic. A.Ş.' cut at 'San', 'Sp. z o.o.' at 'Sp',
'S.A.C.' lost its last stop)."""

from __future__ import annotations

import pytest

from leadflow.tools.prose import clean_company_name, company_in_text, spelled_by_domain


@pytest.mark.parametrize(("name", "domain", "clean"), [
    ("Karadeniz Gıda San. ve Tic. Ltd. Şti.", "karadenizgida.com.tr",
     "Karadeniz Gıda San. ve Tic. Ltd. Şti."),
    ("Minas Ferro Ind. e Com. Ltda.", "minasferro.com.br", "Minas Ferro Ind. e Com. Ltda."),
    ("Cordillera Analytics E.I.R.L.", "cordillera.pe", "Cordillera Analytics E.I.R.L."),
    ("Pacífico Datos S.A.C.", "pacificodatos.pe", "Pacífico Datos S.A.C."),
    # a sentence that ran on after the name still goes, and a final full stop after a word
    ("Lakeside Dental Studio. best to call me", "lakesidedental.com", "Lakeside Dental Studio"),
    ("Panadería Los Olivos.", "losolivos.es", "Panadería Los Olivos"),
])
def test_abbreviations_stay_in_the_name(name: str, domain: str, clean: str) -> None:
    assert clean_company_name(name, domain) == clean


@pytest.mark.parametrize(("text", "domain", "company"), [
    ("Piszę w imieniu firmy Bałtyk Logistyka Sp. z o.o. z Gdyni, szukamy CRM.",
     "baltyklogistyka.pl", "Bałtyk Logistyka Sp. z o.o."),
    ("Trabajo en Ferretera Norteña S. de R.L. de C.V. como gerente de ventas.",
     "ferreteranortena.mx", "Ferretera Norteña S. de R.L. de C.V."),
    ("I lead data at Brightwater Holdings Inc. and we want a demo.", "brightwater.com",
     "Brightwater Holdings Inc."),
])
def test_a_lower_case_legal_form_after_the_name_belongs_to_it(text: str, domain: str,
                                                              company: str) -> None:
    assert company_in_text(text, domain) == company


@pytest.mark.parametrize(("name", "domain"), [
    ("Złota Łąka Ogrody", "zlotalaka.pl"), ("Kırmızı Köprü Yazılım", "kirmizikopru.com.tr"),
    ("Özdemir Örgü", "ozdemirorgu.com.tr"), ("Müller Kältetechnik", "mueller-kaeltetechnik.de"),
])
def test_the_domain_spells_names_with_letters_accents_do_not_reach(name: str, domain: str) -> None:
    assert spelled_by_domain(name, domain)


@pytest.mark.parametrize(("name", "filed"), [
    ("Tainan Fine Tools Co., Ltd. 台南精密工具股份有限公司", "Tainan Fine Tools Co., Ltd."),
    ("青山物流 Aoyama Logistics", "Aoyama Logistics"),
    ("ミドリ化成株式会社（Midori Kasei Co., Ltd.）", "Midori Kasei Co., Ltd."),
    ("Daon Foods (다온푸드)", "Daon Foods"),
    ("ABCマート株式会社", "ABCマート株式会社"),  # one name whose scripts run together
])
def test_a_name_in_two_scripts_is_filed_under_its_latin_half(name: str, filed: str) -> None:
    assert clean_company_name(name) == filed
