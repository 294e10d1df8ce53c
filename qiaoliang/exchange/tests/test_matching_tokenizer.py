"""The matching tokeniser: 2-character words, Traditional folding, debris, synonyms."""

from qiaoliang.exchange.matching.tokenizer import clean_text, tokenize


def test_two_character_words_are_found():
    terms = tokenize("需要融资500万元，急需采购医用口罩")
    assert "融资" in terms
    assert "口罩" in terms


def test_traditional_is_folded_into_simplified():
    assert tokenize("口罩") == tokenize("口罩")
    assert "融资" in tokenize("尋求融資")
    assert "口罩" in tokenize("醫用口罩")


def test_search_mode_yields_parts_of_long_words():
    terms = tokenize("提供融资租赁服务")
    assert {"融资", "租赁", "融资租赁"} <= set(terms)


def test_pinyin_debris_front_matter_html_and_full_width_are_ignored():
    assert clean_text("口(kǒu)罩(zhào)") == "口罩"
    assert clean_text("口（kǒu）罩（zhào）") == "口罩"
    assert clean_text("电梯维保（wéi bǎo）年检") == "电梯维保年检"
    assert clean_text("专业 消 防 设 施 检测") == "专业 消防设施 检测"
    assert clean_text("洗衣液 洗洁精 消毒液") == "洗衣液 洗洁精 消毒液"  # a list of words stays a list
    assert "title" not in tokenize("---\ntitle: 资源\n---\n供应口罩")
    assert tokenize("<p>供应ＳＢＲ１５０２</p>") == tokenize("供应SBR1502")


def test_latin_codes_are_kept_and_split():
    terms = tokenize("供应SBR1502")
    assert "sbr1502" in terms
    assert "sbr" in terms
    assert "n95" in tokenize("N95口罩")


def test_there_is_no_synonym_table():
    """Aliases are the embedding's job: the tokeniser adds no word that is not in the text."""
    assert "丁苯橡胶" not in tokenize("供应SBR1502")


def test_stopwords_punctuation_and_bare_numbers_are_dropped():
    terms = tokenize("我们需要采购一批口罩 500 个。")
    assert terms == ["口罩"]


def test_only_function_words_and_posting_boilerplate_are_stopwords():
    """Words such as 规格, 经验, 产能 carry meaning in some listings; IDF decides how much."""
    from qiaoliang.exchange.matching.tokenizer import default_tokenizer

    stopwords = default_tokenizer().stopwords
    assert {"的", "我们", "需要", "供应", "有限公司"} <= stopwords
    assert not {"规格", "经验", "薪资", "产能", "人数", "全国", "价格"} & stopwords
